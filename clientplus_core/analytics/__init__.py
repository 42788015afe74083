"""Analytics: the DuckDB copy (engine), reports, segments, the report builder,
charts."""
