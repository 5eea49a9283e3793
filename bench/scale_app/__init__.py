"""A tenant app that exists only for bench/tenants_scale.py: its one migration is "a small new
migration" rolled out over every organization's schema (a new table with an index, and a
nullable column on the largest table). Installed only by bench/tenants_scale_settings.py."""
