"""Demo course content for ``seed-demo``: real teaching material, written as course archives."""
