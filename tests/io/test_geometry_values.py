"""I/O geometry and payload checks against files made by another route: NIfTI written by nibabel, MHD headers
and raw bytes written by hand, byte counts worked out from the header (352-byte NIfTI offset, pixel size x count).
Unequal pixel spacing everywhere, so a swapped axis shows."""

from __future__ import annotations

import gzip
import logging
import tempfile
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813

from echolatent.errors import InputError
from echolatent.io import volume
from echolatent.io.payload import payload_problem
from echolatent.io.volume import (
    Geometry,
    as_uint8_image,
    axis_order_problem,
    image_stem,
    image_suffix,
    read_image,
    write_like,
)

SX, SY = 0.3, 0.7  # mm: columns, rows


def _refused(path: Path, problem: str) -> None:
    """read_image(path) raises InputError naming ``path`` with exactly ``problem``."""
    with pytest.raises(InputError) as err:
        read_image(path)
    assert (err.value.path, err.value.problem) == (path, problem)


def _nifti(path: Path, data_xyt: np.ndarray, zooms=(SX, SY, 1.0), shift=(10.0, 20.0, 0.0)) -> Path:
    """A NIfTI written by nibabel: data in (x, y[, t]) order, RAS affine with ``zooms`` and ``shift``."""
    affine = np.diag([*zooms[:3], 1.0])
    affine[:3, 3] = shift
    if data_xyt.ndim == 2:
        affine = np.diag([zooms[0], zooms[1], 1.0, 1.0])
        affine[:3, 3] = shift
    nib.save(nib.Nifti1Image(data_xyt, affine), str(path))
    return path


def _mhd(path: Path, header: dict[str, str], data: bytes | None = None, data_name: str = "x.raw") -> Path:
    fields = {"ObjectType": "Image", "NDims": "3", "DimSize": "5 4 3", "ElementSpacing": f"{SX} {SY} 1",
              "ElementType": "MET_UCHAR", **header}
    fields.setdefault("ElementDataFile", data_name)
    path.write_text("".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None))
    if data is not None:
        (path.parent / fields["ElementDataFile"]).write_bytes(data)
    return path


def test_nibabel_file_reads_as_t_h_w_with_its_spacing_and_lps_geometry(tmp_path):
    data = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3)  # x, y, t
    array, geometry = read_image(_nifti(tmp_path / "a.nii.gz", data))
    np.testing.assert_array_equal(array, data.transpose(2, 1, 0))
    assert geometry.shape == (3, 4, 5) and geometry.ndim == 3 and geometry.size_xyz == (5, 4, 3)
    assert geometry.spacing == pytest.approx((SY, SX)) and geometry.spacing_xyz == pytest.approx((SX, SY, 1.0))
    # SimpleITK works in LPS: RAS x and y change sign
    assert geometry.origin == pytest.approx((-10.0, -20.0, 0.0))
    assert geometry.direction == pytest.approx((-1, 0, 0, 0, -1, 0, 0, 0, 1))


def test_a_2d_file_is_one_frame(tmp_path):
    data = np.arange(20, dtype=np.int16).reshape(5, 4)
    array, geometry = read_image(_nifti(tmp_path / "a.nii", data))
    assert array.shape == (1, 4, 5) and array.dtype == np.int16 and geometry.ndim == 2
    np.testing.assert_array_equal(array[0], data.T)
    assert geometry.shape == (1, 4, 5) and geometry.spacing == pytest.approx((SY, SX))


def test_write_like_geometry_seen_by_nibabel(tmp_path):
    geometry = Geometry((5, 4), (SX, SY), (4.5, -2.25), (-1.0, 0.0, 0.0, -1.0))
    assert geometry.shape == (1, 4, 5) and geometry.spacing == (SY, SX)
    array = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    path = write_like(array, geometry, tmp_path / "seq.nii")  # 3 frames of a 2D geometry: a 3D file
    image = nib.load(str(path))
    assert image.shape == (5, 4, 3) and image.header.get_zooms() == pytest.approx((SX, SY, 1.0))
    np.testing.assert_array_equal(np.asarray(image.dataobj), array.transpose(2, 1, 0))
    # LPS direction diag(-1, -1) with origin (4.5, -2.25) is RAS identity with origin (-4.5, 2.25, 0)
    np.testing.assert_allclose(image.affine, [[SX, 0, 0, -4.5], [0, SY, 0, 2.25], [0, 0, 1, 0], [0, 0, 0, 1]],
                               atol=1e-6)
    assert path.stat().st_size == 352 + array.size  # uncompressed .nii: header, 4 extension bytes, data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq.nii"]  # no temporary left


def test_write_like_writes_in_a_hidden_folder_beside_the_target(tmp_path, monkeypatch, caplog):
    made, real = [], tempfile.mkdtemp

    def mkdtemp(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(volume.tempfile, "mkdtemp", mkdtemp)
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.volume"):
        path = write_like(np.zeros((3, 4, 5), np.uint8), Geometry.default((3, 4, 5)), tmp_path / "a.nii.gz")
    assert made == [{"prefix": ".a.nii.gz.", "dir": tmp_path}]
    assert caplog.messages == [f"wrote {path} (3, 4, 5)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nii.gz"]


def test_with_frames_and_default_geometries():
    flat = Geometry((5, 4), (SX, SY), (4.5, -2.25), (0.6, 0.8, -0.8, 0.6))
    assert flat.with_frames(1) is flat
    assert flat.with_frames(6) == Geometry((5, 4, 6), (SX, SY, 1.0), (4.5, -2.25, 0.0),
                                           (0.6, 0.8, 0.0, -0.8, 0.6, 0.0, 0.0, 0.0, 1.0))
    deep = Geometry((5, 4, 6), (SX, SY, 0.02), (1.0, 2.0, 3.0), tuple(np.eye(3).ravel()))
    assert deep.with_frames(2) == Geometry((5, 4, 2), (SX, SY, 0.02), (1.0, 2.0, 3.0), tuple(np.eye(3).ravel()))
    assert deep.with_frames(1).shape == (1, 4, 5) and deep.with_frames(1).ndim == 3
    assert Geometry.default((1, 4, 5), (SY, SX)) == Geometry((5, 4), (SX, SY), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
    assert Geometry.default((3, 4, 5), (SY, SX)) == Geometry((5, 4, 3), (SX, SY, 1.0), (0.0, 0.0, 0.0),
                                                             tuple(np.eye(3).ravel()))
    assert Geometry.default((3, 4, 5)).spacing == (1.0, 1.0)


def test_mismatch_limits_and_messages():
    image = Geometry((5, 4, 3), (SX, SY, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    same = Geometry((5, 4, 3), (SX * (1 + 9e-4), SY, 1.0), (7.0, 7.0, 7.0), tuple(np.eye(3).ravel() + 9e-5))
    assert image.mismatch(same) is None  # within 0.1 % spacing and 1e-4 direction; the origin is not compared
    wider = Geometry((5, 4, 3), (SX * 1.0012, SY, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    assert wider.mismatch(image) == f"spacing {(SY, SX * 1.0012)} mm does not match its image's {(SY, SX)}"
    swapped = Geometry((5, 4, 3), (SY, SX, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    assert swapped.mismatch(image, "the ED image's") == (
        f"spacing {(SX, SY)} mm does not match the ED image's {(SY, SX)}")
    turned = Geometry((5, 4, 3), (SX, SY, 1.0), (0.0, 0.0, 0.0), (1.0, 2e-4, 0, 0, 1, 0, 0, 0, 1))
    assert turned.mismatch(image) == f"orientation {turned.direction} does not match its image's {image.direction}"
    taller = Geometry((5, 5, 3), (SX, SY, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    assert taller.mismatch(image) == "shape (3, 5, 5) (T, H, W) does not match its image's (3, 4, 5)"
    tiny = Geometry((5, 4, 3), (1e-7, SY, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))  # 1e-6 mm absolute
    assert tiny.mismatch(Geometry((5, 4, 3), (1.05e-6, SY, 1.0), (0, 0, 0), tuple(np.eye(3).ravel()))) is None
    assert tiny.mismatch(Geometry((5, 4, 3), (1.2e-6, SY, 1.0), (0, 0, 0), tuple(np.eye(3).ravel()))) is not None


def test_axis_order_limits():
    assert axis_order_problem((16, 15, 40)) == ("16 frames of 15 x 40 pixels: the axes look swapped (expected "
                                                "frames x height x width: W x H x T on disk)")
    assert axis_order_problem((15, 40, 15)) is None  # no more frames than the thin side
    assert axis_order_problem((40, 16, 40)) is None  # 16 pixels is wide enough
    assert axis_order_problem((40, 40, 15)) is not None
    assert axis_order_problem((5, 24, 20), nb_frame=20) == (
        "5 frames of 24 x 20 pixels while the cfg's NbFrame is 20: the axes look swapped (expected frames x height "
        "x width: W x H x T on disk)")
    assert axis_order_problem((5, 24, 20), nb_frame=24) is not None
    assert axis_order_problem((5, 24, 20), nb_frame=5) is None
    assert axis_order_problem((5, 24, 20), nb_frame=7) is None
    assert axis_order_problem((24, 24, 20), nb_frame=24) is None


def test_suffix_and_stem():
    assert image_suffix("A/P_2CH_ED.NII.GZ") == ".nii.gz" and image_suffix("x.nii") == ".nii"
    assert image_suffix(Path("x.MHD")) == ".mhd"
    assert image_stem("d/p.v1_ED.nii.gz") == "p.v1_ED" and image_stem("p.mhd") == "p"
    with pytest.raises(InputError) as err:
        image_suffix("d/x.nii.zip")
    assert (err.value.path, err.value.problem) == (Path("d/x.nii.zip"), "unsupported file type (expected one of "
                                                                  ".nii.gz, .nii, .mhd)")


def test_as_uint8_image_keeps_rounds_or_rescales():
    kept = np.array([[[3, 250]]], np.uint8)
    assert as_uint8_image(kept, None) is kept
    inside = as_uint8_image(np.array([[[0.0, 0.6, 254.4, 255.0]]]), None)
    assert inside.dtype == np.uint8 and inside.tolist() == [[[0, 1, 254, 255]]]
    wide = as_uint8_image(np.array([[[-10, 145, 300]]], np.int16), None)  # (v + 10) * 255 / 310
    assert wide.dtype == np.uint8 and wide.tolist() == [[[0, 128, 255]]]
    above = as_uint8_image(np.array([[[0.0, 255.5]]]), None)
    assert above.tolist() == [[[0, 255]]]
    below = as_uint8_image(np.array([[[-0.5, 50.0, 100.0]]]), None)  # (v + 0.5) * 255 / 100.5
    assert below.tolist() == [[[0, 128, 255]]]
    assert as_uint8_image(np.full((1, 2, 2), 300.0), None).tolist() == [[[0, 0], [0, 0]]]
    # the limits belong to the kept range: 0..100 and 10..255 are not stretched
    assert as_uint8_image(np.array([[[0.0, 100.0]]]), None).tolist() == [[[0, 100]]]
    assert as_uint8_image(np.array([[[10, 255]]], np.int32), None).tolist() == [[[10, 255]]]


def test_as_uint8_image_says_what_it_rescaled(caplog):
    with caplog.at_level(logging.WARNING, logger="echolatent.io.volume"):
        as_uint8_image(np.array([[[-10, 145, 300]]], np.int16), Path("d/a.nii"))
    assert caplog.messages == [f"{Path('d/a.nii')}: intensities -10..300 outside 0..255, rescaled to uint8"]


def test_write_like_refuses_wrong_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"expected a \(T, H, W\) array, got shape \(4, 5\)"):
        write_like(np.zeros((4, 5), np.uint8), Geometry.default((1, 4, 5)), tmp_path / "a.nii")
    with pytest.raises(ValueError, match=r"array shape \(2, 5, 4\) does not match the geometry's \(2, 4, 5\)"):
        write_like(np.zeros((2, 5, 4), np.uint8), Geometry.default((1, 4, 5)), tmp_path / "a.nii")
    with pytest.raises(InputError, match="unsupported file type"):
        write_like(np.zeros((1, 4, 5), np.uint8), Geometry.default((1, 4, 5)), tmp_path / "a.png")


def test_write_like_mhd_is_compressed_beside_its_header(tmp_path):
    array = np.arange(2 * 16 * 17, dtype=np.uint8).reshape(2, 16, 17)
    path = write_like(array, Geometry.default((2, 16, 17), (SY, SX)), tmp_path / "sub" / "m.mhd")
    header = dict(line.split(" = ", 1) for line in path.read_text().splitlines())
    assert header["CompressedData"] == "True" and header["DimSize"] == "17 16 2"
    assert [float(v) for v in header["ElementSpacing"].split()] == pytest.approx([SX, SY, 1.0])
    assert zlib.decompress((path.parent / header["ElementDataFile"]).read_bytes()) == array.tobytes()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(["m.mhd", header["ElementDataFile"]])
    back, geometry = read_image(path)
    np.testing.assert_array_equal(back, array)
    assert geometry.spacing == pytest.approx((SY, SX))


def test_hand_written_mhd_reads_with_its_spacing(tmp_path):
    data = np.arange(60, dtype=np.uint8)
    array, geometry = read_image(_mhd(tmp_path / "x.mhd", {}, data.tobytes()))
    np.testing.assert_array_equal(array, data.reshape(3, 4, 5))
    assert geometry.shape == (3, 4, 5) and geometry.spacing == pytest.approx((SY, SX))


@pytest.mark.parametrize(("extra", "message"), [
    (-1, "truncated: 59 of 60 bytes"),
    (1, "61 data bytes where the header needs 60: header and data disagree"),
])
def test_raw_one_byte_short_or_long(tmp_path, extra, message):
    data = bytes(range(60 + extra))
    path = _mhd(tmp_path / "x.mhd", {}, data)
    assert payload_problem(path) == message
    with pytest.raises(InputError, match=message):
        read_image(path)


def test_raw_byte_counts_follow_the_pixel_type_and_channels(tmp_path):
    assert payload_problem(_mhd(tmp_path / "s.mhd", {"ElementType": "MET_SHORT"}, bytes(119), "s.raw")) == (
        "truncated: 119 of 120 bytes")
    assert payload_problem(_mhd(tmp_path / "f.mhd", {"ElementType": "MET_DOUBLE"}, bytes(480), "f.raw")) is None
    vector = _mhd(tmp_path / "v.mhd", {"ElementNumberOfChannels": "3"}, bytes(180), "v.raw")
    assert payload_problem(vector) is None
    with pytest.raises(InputError, match="expected a scalar image, got 3 components"):
        read_image(vector)
    assert payload_problem(_mhd(tmp_path / "w.mhd", {"ElementNumberOfChannels": "3"}, bytes(179), "w.raw")) == (
        "truncated: 179 of 180 bytes")


def test_raw_header_size_and_local_data(tmp_path):
    data = bytes(range(60))
    assert payload_problem(_mhd(tmp_path / "h.mhd", {"HeaderSize": "10"}, bytes(10) + data, "h.raw")) is None
    assert payload_problem(_mhd(tmp_path / "i.mhd", {"HeaderSize": "10"}, bytes(9) + data, "i.raw")) == (
        "truncated: 59 of 60 bytes")
    # -1: the data are the file's last bytes, whatever comes before them
    assert payload_problem(_mhd(tmp_path / "j.mhd", {"HeaderSize": "-1"}, bytes(33) + data, "j.raw")) is None
    assert payload_problem(_mhd(tmp_path / "k.mhd", {"HeaderSize": "-1"}, data[:50], "k.raw")) == (
        "truncated: 50 of 60 bytes")
    local = _mhd(tmp_path / "l.mhd", {"ElementDataFile": "LOCAL"})
    local.write_bytes(local.read_bytes() + data)
    np.testing.assert_array_equal(read_image(local)[0].ravel(), np.frombuffer(data, np.uint8))
    short = _mhd(tmp_path / "m.mhd", {"ElementDataFile": "LOCAL"})
    short.write_bytes(short.read_bytes() + data[:-2])
    assert payload_problem(short) == "truncated: 58 of 60 bytes"
    bad = _mhd(tmp_path / "n.mhd", {"HeaderSize": "1.5"}, data, "n.raw")
    assert payload_problem(bad) == "cannot read image header (HeaderSize '1.5')"
    long = _mhd(tmp_path / "o.mhd", {"HeaderSize": "1." + "5" * 30}, data, "o.raw")
    assert payload_problem(long) == "cannot read image header (HeaderSize '1.555555555555555555')"  # 20 characters
    equals = _mhd(tmp_path / "p.mhd", {}, data[:-1], "p=1.raw")  # only the first "=" separates key and value
    assert payload_problem(equals) == "truncated: 59 of 60 bytes"


def test_raw_files_not_checked_or_missing(tmp_path, caplog):
    # a list of files, a printf pattern or text data: sizes are not checked (documented), so a short one passes
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.payload"):
        assert payload_problem(_mhd(tmp_path / "p.mhd", {"ElementDataFile": "p%03d.raw 1 3 1"})) is None
    assert caplog.messages == [f"{tmp_path / 'p.mhd'}: payload size not checked (data file 'p%03d.raw 1 3 1')"]
    for value in ("False", "false"):
        text = _mhd(tmp_path / "t.mhd", {"BinaryData": value}, b"1 2 3", "t.txt")
        assert payload_problem(text) is None
    assert payload_problem(_mhd(tmp_path / "u.mhd", {"BinaryData": "True"}, b"1 2 3", "u.raw")) == (
        "truncated: 5 of 60 bytes")
    for value in ("LIST", "list"):
        assert payload_problem(_mhd(tmp_path / "w.mhd", {"ElementDataFile": f"{value}\nw0.raw"})) is None
    missing = _mhd(tmp_path / "q.mhd", {}, None, "q.raw")
    assert payload_problem(missing) == "cannot read image (data file q.raw not found)"
    with pytest.raises(InputError, match=r"cannot read image \(data file q.raw not found\)"):
        read_image(missing)
    (tmp_path / "r.mhd").write_text("this is not a header\n")
    assert payload_problem(tmp_path / "r.mhd") == "cannot read image header"


def test_compressed_raw_counts_decompressed_bytes(tmp_path):
    data = bytes(range(60))
    whole = zlib.compress(data)
    header = {"CompressedData": "True", "CompressedDataSize": str(len(whole))}
    assert payload_problem(_mhd(tmp_path / "a.mhd", header, whole, "a.zraw")) is None
    short = zlib.compress(data[:45])
    assert payload_problem(_mhd(tmp_path / "b.mhd", header, short, "b.zraw")) == "truncated: 45 of 60 bytes"
    cut = _mhd(tmp_path / "c.mhd", header, whole[: len(whole) // 2], "c.zraw")
    assert payload_problem(cut).startswith("truncated: ")
    two = zlib.compress(data[:30]) + zlib.compress(data[30:])  # streams back to back count together
    assert payload_problem(_mhd(tmp_path / "d.mhd", header, two, "d.zraw")) is None
    damaged = _mhd(tmp_path / "e.mhd", header, whole + b"\x00garbage", "e.zraw")
    assert payload_problem(damaged) == "damaged compressed data in e.zraw"
    local = _mhd(tmp_path / "f.mhd", {**header, "ElementDataFile": "LOCAL"})
    local.write_bytes(local.read_bytes() + whole)  # the stream starts after the header
    assert payload_problem(local) is None
    np.testing.assert_array_equal(read_image(local)[0].ravel(), np.frombuffer(data, np.uint8))
    skipped = _mhd(tmp_path / "g.mhd", {**header, "HeaderSize": "7"}, bytes(7) + whole, "g.zraw")
    assert payload_problem(skipped) is None


def test_nifti_byte_counts_by_hand(tmp_path):
    path = _nifti(tmp_path / "a.nii", np.zeros((5, 4, 3), np.int16))
    assert path.stat().st_size == 352 + 120 and payload_problem(path) is None
    path.write_bytes(path.read_bytes()[:-1])
    assert payload_problem(path) == "truncated: 471 of 472 bytes"
    path.write_bytes(path.read_bytes() + b"\x00\x00")
    assert payload_problem(path) == "473 data bytes where the header needs 472: header and data disagree"


def test_gzip_members_back_to_back_are_whole(tmp_path):
    raw = _nifti(tmp_path / "a.nii", np.arange(60, dtype=np.uint8).reshape(5, 4, 3)).read_bytes()
    path = tmp_path / "b.nii.gz"
    path.write_bytes(gzip.compress(raw[:200]) + gzip.compress(raw[200:]))
    assert payload_problem(path) is None
    np.testing.assert_array_equal(read_image(path)[0], np.arange(60).reshape(5, 4, 3).transpose(2, 1, 0))
    path.write_bytes(gzip.compress(raw[:-5]))
    assert payload_problem(path) == "truncated: 407 of 412 bytes"
    path.write_bytes(gzip.compress(raw + bytes(3)))
    assert payload_problem(path) == "415 data bytes where the header needs 412: header and data disagree"


def test_a_gzip_stream_longer_than_one_read_is_whole(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (128, 128, 80), dtype=np.uint8)  # 1.3 MB, incompressible
    path = _nifti(tmp_path / "big.nii.gz", noise)
    assert path.stat().st_size > 1 << 20
    assert payload_problem(path) is None
    path.write_bytes(path.read_bytes()[:-4])  # the data whole, the gzip trailer cut
    assert payload_problem(path) == "damaged gzip stream"


def test_damaged_nifti_header(tmp_path):
    raw = _nifti(tmp_path / "a.nii", np.zeros((5, 4, 3), np.uint8)).read_bytes()
    (tmp_path / "b.nii").write_bytes(raw[:100])
    assert payload_problem(tmp_path / "b.nii") == "cannot read image header (truncated after 100 bytes)"
    (tmp_path / "c.nii.gz").write_bytes(gzip.compress(raw[:300]))
    assert payload_problem(tmp_path / "c.nii.gz") == "cannot read image header (truncated after 300 bytes)"
    (tmp_path / "d.nii.gz").write_bytes(gzip.compress(raw[:348])[:-6])
    assert payload_problem(tmp_path / "d.nii.gz").startswith("cannot read image header (truncated after ")
    garbage = bytearray(raw)
    garbage[344:348] = b"abcd"  # not the NIfTI magic
    (tmp_path / "e.nii").write_bytes(bytes(garbage))
    assert payload_problem(tmp_path / "e.nii") == "cannot read image header (ImageFileError)"
    (tmp_path / "f.nii").write_bytes(bytes(garbage[:348]))  # a whole header, unreadable: not "truncated"
    assert payload_problem(tmp_path / "f.nii") == "cannot read image header (ImageFileError)"
    (tmp_path / "g.nii").write_bytes(bytes(garbage[:347]))
    assert payload_problem(tmp_path / "g.nii") == "cannot read image header (truncated after 347 bytes)"


def test_non_finite_voxels_are_counted(tmp_path):
    data = np.zeros((5, 4, 3), np.float32)
    data[0, 0, 0], data[1, 2, 0], data[4, 3, 2] = np.nan, np.inf, -np.inf
    with pytest.raises(InputError, match="3 NaN or infinite voxels"):
        read_image(_nifti(tmp_path / "a.nii.gz", data))
    values = np.zeros(60, np.float32)
    values[[3, 40]] = np.nan
    path = _mhd(tmp_path / "b.mhd", {"ElementType": "MET_FLOAT"}, values.tobytes(), "b.raw")
    with pytest.raises(InputError, match="2 NaN or infinite voxels"):
        read_image(path)
    fine = _nifti(tmp_path / "c.nii", np.full((5, 4, 3), 2.5, np.float32))
    assert read_image(fine)[0].dtype == np.float32
    _refused(_nifti(tmp_path / "d.nii", data), "3 NaN or infinite voxels")  # SimpleITK alone would read zeros


def test_without_nibabel_the_nan_check_uses_the_pixels_read(tmp_path, monkeypatch, caplog):
    data = np.zeros((5, 4, 3), np.float32)
    data[0, 0, 0] = np.nan
    path = _nifti(tmp_path / "a.nii", data)

    class Broken:
        @staticmethod
        def load(_name):
            raise ValueError("boom")

    monkeypatch.setattr(volume, "nib", Broken)
    with caplog.at_level(logging.DEBUG, logger="echolatent.io.volume"):
        array, _ = read_image(path)
    assert np.isfinite(array).all()  # SimpleITK turned the NaN into a number
    assert caplog.messages == [f"{path}: nibabel cannot read it for the NaN check (boom)"]


def test_read_image_refuses_missing_empty_and_4d_files(tmp_path):
    _refused(tmp_path / "none.nii.gz", "file not found")
    (tmp_path / "folder.nii").mkdir()
    _refused(tmp_path / "folder.nii", "file not found")
    (tmp_path / "empty.nii").write_bytes(b"")
    _refused(tmp_path / "empty.nii", "empty file")
    _refused(_nifti(tmp_path / "d.nii", np.zeros((5, 4, 3, 2), np.uint8)),
             "expected a 2D frame or a 2D+time sequence, got 4 dimensions")
    _refused(_mhd(tmp_path / "v.mhd", {"ElementNumberOfChannels": "3"}, bytes(180), "v.raw"),
             "expected a scalar image, got 3 components")
    _refused(_mhd(tmp_path / "z.mhd", {"DimSize": "5 0 3"}, b"", "z.raw"), "empty array of shape (3, 0, 5)")
    _refused(_mhd(tmp_path / "t.mhd", {}, bytes(59), "t.raw"), "truncated: 59 of 60 bytes")


def test_reader_errors_keep_their_last_line(tmp_path, monkeypatch):
    path = _nifti(tmp_path / "a.nii", np.zeros((5, 4, 3), np.uint8))
    reasons = iter(["first line\n" + "x" * 200 + "  \n", "", "only one"])

    def fail(_name):
        raise RuntimeError(next(reasons))

    monkeypatch.setattr(volume.sitk, "ReadImage", fail)
    _refused(path, f"cannot read image ({'x' * 160})")
    _refused(path, "cannot read image (unknown reader error)")
    _refused(path, "cannot read image (only one)")


def test_a_list_of_missing_slices_fails_in_the_reader(tmp_path):
    path = _mhd(tmp_path / "l.mhd", {"ElementDataFile": "LIST\nl0.raw\nl1.raw\nl2.raw"})
    assert payload_problem(path) is None  # a list is not size-checked
    with pytest.raises(RuntimeError) as sitk_error:
        sitk.ReadImage(str(path))
    last = str(sitk_error.value).strip().splitlines()[-1]
    _refused(path, f"cannot read image ({last[:160]})")


@pytest.mark.parametrize(("error", "message"), [
    (OSError(5, "Input/output error"), "unreadable (Input/output error)"),
    (OSError("no errno"), "unreadable (OSError)"),
    (PermissionError(13, "Permission denied"), "unreadable (permission denied)"),
])
def test_other_read_errors_are_named(tmp_path, monkeypatch, error, message):
    path = _nifti(tmp_path / "a.nii", np.zeros((5, 4, 3), np.uint8))

    def refuse(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(volume, "open", refuse, raising=False)
    _refused(path, message)
