"""Contact groups (B5): the built-in `vip` group and admin-defined groups over attributes."""
