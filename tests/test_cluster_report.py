"""The public report: aggregates only, small counts suppressed, page and PDF, bad years."""

from __future__ import annotations

import re

from tests.cluster_factories import cluster_world

CELL = re.compile(r'data-indicator="([^"]+)">\s*(?:<span class="suppressed">)?([^<\n]*)')


def test_public_report_page_and_pdf(app, client):
    cluster_world(app)
    page = client.get("/cluster/report?year=2025")  # public: nobody logged in
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sensors 101" in html and "Northgate University" in html
    cells = dict(CELL.findall(html))
    assert cells["enrolled"].strip() == "16"
    assert cells["completed"].strip() == "11"
    for key in ("enrolled", "completed", "active", "trainers", "placements_filled"):
        text = cells[key].strip()
        assert text == "fewer than 5" or int(text.replace(",", "")) >= 5, (key, text)
    assert cells["trainers"].strip() == "fewer than 5"  # one trainer in the whole cluster
    pdf = client.get("/cluster/report?year=2025&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for bad in ("2025-13", "2025-06", "next"):
        response = client.get(f"/cluster/report?year={bad}")
        assert response.status_code == 400
