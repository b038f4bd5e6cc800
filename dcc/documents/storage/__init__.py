"""Where document blobs live: a local directory (the embedded default) or an S3-compatible
object store, chosen by settings. Blobs are already encrypted when they reach a store; a store
only keeps bytes under server-generated keys, durably, and never deletes a blob a document
row records (a staged blob whose row never committed is dropped: see ``local.py``)."""
