"""Ingestion: parse and validate manifests, inspect and derive media, store, report — plain functions the DAG calls."""
