"""Datasets and their file formats."""
