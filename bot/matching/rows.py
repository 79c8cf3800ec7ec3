"""Growable arrays for the index: appending a post must not copy the 100,000 rows already there."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


def _grown(array: npt.NDArray[Any], needed: int) -> npt.NDArray[Any]:
    if needed <= len(array):
        return array
    bigger = np.zeros((max(needed, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class SparseRows:
    """A CSR matrix built by appending blocks of rows; `matrix()` is a view, not a copy."""

    def __init__(self) -> None:
        self.data = np.zeros(1024, dtype=np.float32)
        self.indices = np.zeros(1024, dtype=np.int32)
        self.indptr = np.zeros(257, dtype=np.int32)
        self.rows = 0

    @property
    def nnz(self) -> int:
        return int(self.indptr[self.rows])

    def append(self, block: sp.csr_matrix) -> None:
        block = sp.csr_matrix(block)
        nnz, rows = self.nnz, self.rows
        self.data = _grown(self.data, nnz + block.nnz)
        self.indices = _grown(self.indices, nnz + block.nnz)
        self.indptr = _grown(self.indptr, rows + block.shape[0] + 1)
        self.data[nnz : nnz + block.nnz] = block.data
        self.indices[nnz : nnz + block.nnz] = block.indices
        self.indptr[rows + 1 : rows + block.shape[0] + 1] = block.indptr[1:] + nnz
        self.rows += block.shape[0]

    def matrix(self, width: int) -> sp.csr_matrix:
        nnz = self.nnz
        return sp.csr_matrix(
            (self.data[:nnz], self.indices[:nnz], self.indptr[: self.rows + 1]),
            shape=(self.rows, width),
            copy=False,
        )

    def columns(self, row: int) -> npt.NDArray[np.int32]:
        return self.indices[self.indptr[row] : self.indptr[row + 1]]


class DenseRows:
    """A float matrix of fixed width that grows by rows."""

    def __init__(self, width: int, dtype: Any = np.float32) -> None:
        self.array = np.zeros((256, width), dtype=dtype)
        self.rows = 0

    def append(self, block: npt.NDArray[Any]) -> None:
        self.array = _grown(self.array, self.rows + len(block))
        self.array[self.rows : self.rows + len(block)] = block
        self.rows += len(block)

    def view(self) -> npt.NDArray[Any]:
        return self.array[: self.rows]


class Column:
    """A 1-D array that grows (per-row metadata: post id, kind, organisation, ...)."""

    def __init__(self, dtype: Any, fill: Any = 0) -> None:
        self.array = np.full(256, fill, dtype=dtype)
        self.fill = fill
        self.rows = 0

    def extend(self, values: npt.ArrayLike) -> None:
        values = np.asarray(values, dtype=self.array.dtype)
        if self.rows + len(values) > len(self.array):
            bigger = np.full(max(self.rows + len(values), 2 * len(self.array)), self.fill, dtype=self.array.dtype)
            bigger[: self.rows] = self.array[: self.rows]
            self.array = bigger
        self.array[self.rows : self.rows + len(values)] = values
        self.rows += len(values)

    def view(self) -> npt.NDArray[Any]:
        return self.array[: self.rows]
