"""Local servers the publishing tests start: fake Zenodo and CKAN, and a real S3 store (SeaweedFS)."""
