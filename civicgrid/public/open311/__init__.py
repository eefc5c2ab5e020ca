"""Open311 GeoReport v2 as an adapter at the edge: the standard's names live only here."""
