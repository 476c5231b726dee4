"""The latent explorer: a local web page (one static HTML file) and a small JSON API over a shape model and,
optionally, the output folder of ``echolatent run``/``smooth``.

* :mod:`echolatent.explore.latent_view`: decode a latent code into a PNG and its re-measured attributes.
* :mod:`echolatent.explore.results_view`: list and render the sequences of a results folder.
* :mod:`echolatent.explore.server`: the HTTP server (standard library) and its request validation.
"""
