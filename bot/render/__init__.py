"""One renderer per surface; each walks the report's typed blocks."""
