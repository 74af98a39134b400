"""One module per report section; each exposes `build(evidence) -> Section`."""
