"""`seed_demo`, `rotate_field_encryption`."""
