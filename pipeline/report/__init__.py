"""Reports and listings of what the pipeline found: HTML with inline SVG, tables, CSV, JSON."""
