"""Presentation shared by the dashboard and the reports, so both show the same thing the same way.

* :mod:`.i18n`: every word in English and Persian (one dictionary, one ``term()``, country names);
* :mod:`.fmt`: digits, numbers and dates in both calendars, bound to a language by ``Formatter``;
* :mod:`.charts`: the Plotly charts and maps;
* :mod:`.assets`: plotly.js, the world topojson, the Vazirmatn font, self-contained pages and PNG snapshots.
"""
