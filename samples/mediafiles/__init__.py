"""Real media files made here, never downloaded: documents (PDF syntax written by hand, TIFF pages), recordings
(encoded by PyAV) and 3D models (trimesh), with the broken ones bad-input tests need. The tests, the benches and
the mixed-media sample batch (samples/media.py) all make their files with these builders."""
