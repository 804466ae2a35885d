"""Running the app for real: what a city's IT team probes, graphs, logs and backs up.

``probes`` answers the load balancer (``/healthz``, ``/readyz``) and Prometheus
(``/metrics``); ``readiness`` says what "ready" means part by part; ``metrics`` keeps
the figures; ``backup`` and its commands copy and restore the database and the
photos. The request log and the workers' heartbeats are plumbing (the jobs use them
too). These modules read the models and the plumbing; the rules never import them.
"""
