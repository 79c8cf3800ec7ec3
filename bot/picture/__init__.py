"""Pictures of the partnership: the synergy map (`synergy_map`), the funnel chart (`funnel_chart`)
and the self-contained HTML report (`report`), drawn with matplotlib's Agg backend from what
`data.gather` reads in the database."""
