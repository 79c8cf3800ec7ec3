"""Each person's data (GDPR articles 15, 17 and 20): what Peerlink holds about them (`sections`),
handed over as one JSON file (`export`), erased on request (`erase`), and what is kept no longer
than needed (`retention`)."""
