"""Our date and time formats (settings.FORMAT_MODULE_PATH): one way to write a date on every page.

Templates name a format (`|date:"DATE_FORMAT"`, `|time:"TIME_FORMAT"`) instead of spelling one
out; tests/test_date_formats.py fails on a template that spells one out.
"""
