"""The lab activity plugin: sandbox runner, languages, grading, executors and worker."""
