"""Benchmarks: the data set (``data``, filled by ``manage.py seed_bench``), the measurements (``measure``,
run by ``manage.py bench``) and the bench-only URLconf (``urls``)."""
