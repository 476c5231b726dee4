"""The reader under random damage: any cut, flipped byte or edited header gives the data back whole or an InputError
naming the file; never another exception, never a silently shortened array."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import echo, geometry

from echolatent.errors import InputError
from echolatent.io.volume import read_image, write_like

READS = settings(max_examples=50, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
IMAGE = echo(4, 32)


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    """The bytes of the same sequence as ``.nii.gz``, ``.nii``, and ``.mhd`` + ``.zraw``."""
    folder = tmp_path_factory.mktemp("orig")
    found = {}
    for name in ("a.nii.gz", "a.nii", "a.mhd"):
        write_like(IMAGE, geometry(IMAGE.shape), folder / name)
    for path in folder.iterdir():
        found[path.name] = path.read_bytes()
    return found


def _read(path: Path) -> np.ndarray | None:
    """The array read, or None on an InputError naming ``path`` (any other exception fails the test)."""
    try:
        return read_image(path)[0]
    except InputError as err:
        assert err.path == path and "\n" not in str(err)
        return None


def _assert_whole_or_refused(array: np.ndarray | None) -> None:
    if array is not None and array.shape == IMAGE.shape:
        return  # a damaged header may change the values (e.g. the data type), never the amount of data
    assert array is None or array.size >= IMAGE.size, f"shortened array {None if array is None else array.shape}"


@READS
@given(name=st.sampled_from(["a.nii.gz", "a.nii", "a.zraw"]), cut=st.integers(1, 4000))
def test_any_cut(name, cut, originals, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut")
    for key, data in originals.items():
        (folder / key).write_bytes(data)
    data = originals[name]
    (folder / name).write_bytes(data[: max(0, len(data) - cut)])
    array = _read(folder / ("a.mhd" if name == "a.zraw" else name))
    assert array is None, "a cut file was read"


@READS
@given(name=st.sampled_from(["a.nii.gz", "a.nii"]), where=st.floats(0, 1, exclude_max=True),
       value=st.integers(0, 255))
def test_any_changed_byte(name, where, value, originals, tmp_path_factory):
    data = bytearray(originals[name])
    data[int(where * len(data))] = value
    path = tmp_path_factory.mktemp("flip") / name
    path.write_bytes(bytes(data))
    _assert_whole_or_refused(_read(path))


@READS
@given(payload=st.binary(max_size=6000))
def test_any_gzip_stream_of_any_bytes(payload, tmp_path_factory):
    path = tmp_path_factory.mktemp("gz") / "x.nii.gz"
    path.write_bytes(gzip.compress(payload))
    _read(path)


@READS
@given(line=st.sampled_from(["DimSize = 32 32 400", "DimSize = 32 32", "ElementType = MET_DOUBLE",
                             "ElementDataFile = nothing.raw", "ElementDataFile = LOCAL", "CompressedData = False",
                             "NDims = 7", "BinaryData = False", "ElementNumberOfChannels = 3", "HeaderSize = 99999",
                             "HeaderSize = -1", "HeaderSize = x"]))
def test_edited_mhd_header(line, originals, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mhd")
    (folder / "a.zraw").write_bytes(originals["a.zraw"])
    key = line.split(" = ")[0]
    header = [row for row in originals["a.mhd"].decode().splitlines() if not row.startswith(key)]
    if key == "ElementDataFile":  # the last line, after which LOCAL data would start
        header.append(line)
    else:
        header.insert(len(header) - 1, line)
    (folder / "a.mhd").write_text("\n".join(header) + "\n")
    _assert_whole_or_refused(_read(folder / "a.mhd"))
