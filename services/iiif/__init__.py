"""IIIF: Image API 3.0 and Presentation API 3.0."""
