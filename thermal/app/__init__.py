"""The application layer: command line, tasks, batch runs, comparisons, outputs, reports, pictures."""
