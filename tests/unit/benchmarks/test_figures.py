"""The pure parts of the benchmarks: percentiles, the memory slope, the markdown report."""

from __future__ import annotations

from benchmarks.memory import slope_per_hour, steady_start
from benchmarks.pipeline import Sample
from benchmarks.report import load_sections, render
from benchmarks.result import Row, Section, percentile


def test_percentile_interpolates_and_handles_edges() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 50) == 50.5
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) == 0.0
    assert percentile([3.0], 99) == 3.0


def test_slope_is_megabytes_per_hour() -> None:
    samples = [Sample(t, {}, {"writer": 100.0 + t / 60}, {}) for t in range(0, 600, 10)]

    assert abs(slope_per_hour(samples, "writer") - 60.0) < 1e-6
    assert slope_per_hour(samples[:1], "writer") == 0.0


def test_report_puts_each_figure_beside_its_reference() -> None:
    section = Section("book", "Book engine", "python -m benchmarks book", seconds=3.0)
    section.rows = [Row("frames/s", "10/s", "parse only: 30/s", "3.00x", "within 2x", "NOT met")]
    section.reading = "Behind its floor."
    failed = Section("scale", "Scale", "python -m benchmarks scale", error="RuntimeError: boom")

    text = render([section, failed], {"cpu": "X", "cores": "2"}, "2026-11-24 10:00 UTC", False)

    assert "| frames/s | 10/s | parse only: 30/s | 3.00x | within 2x | NOT met |" in text
    assert "| book | frames/s | 10/s | within 2x | NOT met |" in text  # goals at a glance
    assert "**Reading.** Behind its floor." in text
    assert "**This section did not complete:** RuntimeError: boom" in text
    assert "Reproduce: `python -m benchmarks book`" in text


def test_a_report_can_be_read_back_so_one_section_is_rerun_alone() -> None:
    section = Section("storage", "Storage", "python -m benchmarks storage", ran_at="then")
    section.rows = [Row("bytes -- per snapshot", "260 B", "500 B", "52%", "<= 300 B", "met")]
    section.notes = ["a note with --> inside"]

    text = render([section], {"cpu": "X"}, "now", False, ("book", "storage"))
    loaded = load_sections(text)

    assert loaded == [section]
    assert "## 2. Storage" in text  # numbered by its place among all sections


def test_the_fitted_part_of_a_long_run_starts_after_the_backfill_buffer_filled() -> None:
    assert steady_start(300) == 60  # a short run: past its first fifth
    assert steady_start(1800) == 900  # 30 minutes: past the 15 minutes of buffer filling
    assert steady_start(7200) == 1440
