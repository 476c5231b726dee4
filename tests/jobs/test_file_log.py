"""The run log: INFO records reach OUT/run.log even when the CLI's stderr asks for warnings only (--quiet), and
the stderr handler still gets only warnings."""

from __future__ import annotations

import io
import logging

from echolatent.jobs.output import file_log


def test_quiet_stderr_keeps_info_out_while_the_file_gets_it(tmp_path):
    root, package = logging.getLogger(), logging.getLogger("echolatent")
    stream = io.StringIO()
    stderr = logging.StreamHandler(stream)
    old_root, old_package = root.level, package.level
    root.addHandler(stderr)
    root.setLevel(logging.WARNING)
    package.setLevel(logging.NOTSET)
    try:
        with file_log(tmp_path / "run.log"):
            logging.getLogger("echolatent.jobs.run").info("sequence done")
            logging.getLogger("echolatent.jobs.run").warning("sequence skipped")
            logging.getLogger("other.library").warning("foreign warning")
        logging.getLogger("echolatent.jobs.run").info("after the run")
    finally:
        root.removeHandler(stderr)
        root.setLevel(old_root)
        package.setLevel(old_package)
    written = (tmp_path / "run.log").read_text()
    assert "sequence done" in written and "sequence skipped" in written and "foreign" not in written
    shown = stream.getvalue()
    assert "sequence skipped" in shown and "foreign warning" in shown
    assert "sequence done" not in shown and "after the run" not in shown
    assert stderr.filters == [] and package.level == logging.NOTSET


def test_verbose_stderr_sees_info_too(tmp_path):
    root = logging.getLogger()
    stream = io.StringIO()
    stderr = logging.StreamHandler(stream)
    old_root = root.level
    root.addHandler(stderr)
    root.setLevel(logging.INFO)
    try:
        with file_log(tmp_path / "run.log"):
            logging.getLogger("echolatent.jobs.run").info("sequence done")
    finally:
        root.removeHandler(stderr)
        root.setLevel(old_root)
    assert "sequence done" in stream.getvalue() and "sequence done" in (tmp_path / "run.log").read_text()
