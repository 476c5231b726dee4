"""The output-folder guard and the option loader on their own: a real second process, leftovers, messages."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echolatent.errors import InputError
from echolatent.io.camus import find_sequences
from echolatent.measure.temporal import TemporalThresholds
from echolatent.options import check_mask_suffix, check_threads, load_option_file, read_json_object
from echolatent.outdir import check_output_folder, guarded_output, leftovers, lock_folder, output_lock

HOLDER = textwrap.dedent("""
    import sys
    from echolatent.outdir import output_lock
    with output_lock(sys.argv[1], run_id=sys.argv[2], command="holder"):
        print("locked", flush=True)
        sys.stdin.read()
""")


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds ``out``'s lock as run ``run_id`` until the block ends."""
    children = []

    def start(out: Path, run_id: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), run_id], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "locked"
        children.append(child)
        return child

    yield start
    for child in children:
        child.communicate(timeout=30)


def test_a_live_process_of_another_run_blocks_out_until_it_ends(tmp_path, holder):
    out = tmp_path / "out"
    child = holder(out, "first")
    busy = rf"in use by another echolatent run \(pid {child.pid} .*holder"
    with pytest.raises(InputError, match=busy), guarded_output(out, command="second"):
        pass
    with output_lock(out, run_id="first") as sharing:  # a shard of the same run shares it
        assert [h.pid for h in sharing] == [child.pid]
    child.communicate(timeout=30)
    with guarded_output(out, command="after") as target:
        assert target == out
    assert not lock_folder(out).exists()


def test_lock_is_released_when_the_block_fails(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), output_lock(out):
        raise RuntimeError("boom")
    assert not lock_folder(out).exists()


def test_leftovers_are_found_and_what_may_hold_results_is_kept(tmp_path):
    out = tmp_path / "out"
    (out / "patient0001").mkdir(parents=True)
    temp = out / "patient0001" / ".x_pred.nii.gz.ab12cd_3"
    temp.mkdir()
    (out / ".metrics.csv.zz99yy88").write_text("half")
    (out / ".hidden_by_the_user").write_text("keep")
    partial, aside, live = tmp_path / "out.partial-99999999", tmp_path / "out.old-99999999", tmp_path / "out.partial-1"
    for folder in (partial, aside, live):
        folder.mkdir()
    found = leftovers(out)
    assert found["partial"] == [partial] and found["aside"] == [aside]  # pid 1 is alive: not a leftover
    assert sorted(found["temporary"]) == sorted([out / ".metrics.csv.zz99yy88", temp])
    with guarded_output(out):
        pass
    assert not partial.exists() and not temp.exists() and aside.is_dir() and live.is_dir()
    assert (out / ".hidden_by_the_user").is_file()


def test_check_output_folder(tmp_path):
    data = tmp_path / "data"
    (data / "p").mkdir(parents=True)
    image = data / "p" / "a.nii.gz"
    image.write_bytes(b"x")
    assert check_output_folder(tmp_path / "out", [data]) == tmp_path / "out"
    assert check_output_folder(tmp_path / "out", [image, None, tmp_path / "missing"]) == tmp_path / "out"
    with pytest.raises(InputError, match="is not a folder"):
        check_output_folder(image)
    with pytest.raises(InputError, match="inside the input folder"):
        check_output_folder(data / "p" / "out", [data])
    with pytest.raises(InputError, match="holds the input"):
        check_output_folder(data / "p", [image])


def test_option_loader_messages(tmp_path):
    path = tmp_path / "t.json"
    with pytest.raises(InputError, match="temporal thresholds file not found"):
        read_json_object(path, "temporal thresholds")
    path.write_text('{"bounds": ')
    with pytest.raises(InputError, match=r"is not JSON \(Expecting value, line 1\)"):
        read_json_object(path, "temporal thresholds")
    path.write_text("[]")
    with pytest.raises(InputError, match="must hold a JSON object, got a list"):
        load_option_file(path, TemporalThresholds.load, "temporal thresholds")
    path.write_text(json.dumps({"tau": {}}))
    with pytest.raises(InputError, match=r"not a valid temporal thresholds file \(missing key 'bounds'\)"):
        load_option_file(path, TemporalThresholds.load, "temporal thresholds")
    good = TemporalThresholds(bounds={"lv_area": (1.0, 2.0)}, tau={"lv_area": 0.1})
    good.save(path)
    assert load_option_file(path, TemporalThresholds.load, "temporal thresholds").bounds == good.bounds


@pytest.mark.parametrize("suffix", ["_pred", "_post", "_gt", "_seg-2"])
def test_good_suffixes_and_threads(suffix):
    assert check_mask_suffix(suffix) == suffix
    assert check_threads(0) == 0 and check_threads(4) == 4
    with pytest.raises(InputError, match="--threads"):
        check_threads(-1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(suffix=st.text(max_size=8))
def test_any_suffix_is_accepted_by_discovery_or_refused_in_one_line(suffix, tmp_path_factory):
    try:
        checked = check_mask_suffix(suffix)
    except InputError as err:
        assert str(err).startswith("--suffix: ") and "\n" not in str(err)
        return
    find_sequences(tmp_path_factory.mktemp("empty"), mask_suffix=checked)  # raised ValueError before the check


def test_unwritable_place_for_the_lock_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"cannot write the lock .*\.out\.lock"), output_lock(blocker / "out"):
        pass
