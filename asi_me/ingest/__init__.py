"""Reading exports: source profiles, validation, the report, updates, templates and publishing a release."""
