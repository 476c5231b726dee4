"""Mutation-testing registry of io/: dicom, sector, camus, video, echonet, readers, cfg,
frames, recordings, check, discovery, check_recordings, splits: the modules and their tests, the equivalent mutants with
reasons, and why the survivors left are left. Read by tools/mutation.py."""

from __future__ import annotations

from mutants_core import IO_BEFORE

MODULES: dict[str, tuple[str, list[str], list[str]]] = {}
EQUIVALENT: dict[str, str] = {}
SURVIVING_WHY: dict[str, str] = {}

#: io: dicom, sector, camus, video, echonet, readers, cfg, frames, recordings, check, discovery (issue 24)
_IO_RECORDINGS = ["tests/io/test_recordings.py"]
MODULES.update({
    "dicom": ("src/echolatent/io/dicom.py", ["tests/io/test_dicom.py", *_IO_RECORDINGS],
              ["tests/io/test_dicom_*.py"]),
    "sector": ("src/echolatent/io/sector.py", ["tests/io/test_sector.py", *_IO_RECORDINGS],
               ["tests/io/test_sector_*.py"]),
    "camus": ("src/echolatent/io/camus.py", IO_BEFORE, ["tests/io/test_camus_*.py"]),
    "video": ("src/echolatent/io/video.py", ["tests/io/test_video.py", *_IO_RECORDINGS], ["tests/io/test_video_*.py"]),
    "echonet": ("src/echolatent/io/echonet.py", ["tests/io/test_video.py"], ["tests/io/test_echonet_*.py"]),
    "readers": ("src/echolatent/io/readers.py", ["tests/io/test_readers.py", *_IO_RECORDINGS],
                ["tests/io/test_readers_*.py"]),
    "cfg": ("src/echolatent/io/cfg.py", ["tests/io/test_io_cfg.py"], ["tests/io/test_cfg_*.py"]),
    "frames": ("src/echolatent/io/frames.py", ["tests/io/test_io_camus.py"], ["tests/io/test_frames_*.py"]),
    "recordings": ("src/echolatent/io/recordings.py", _IO_RECORDINGS, ["tests/io/test_recordings_*.py"]),
    "check": ("src/echolatent/io/check.py", ["tests/io/test_io_check.py", "tests/io/test_io_bad_files.py"],
              ["tests/io/test_check_*.py"]),
    "discovery": ("src/echolatent/io/discovery.py", _IO_RECORDINGS, ["tests/io/test_discovery_*.py"]),
    "check_recordings": ("src/echolatent/io/check_recordings.py", ["tests/io/test_io_check.py"],
                         ["tests/io/test_check_recordings_*.py"]),
    "splits": ("src/echolatent/io/splits.py", ["tests/latent/test_map.py", "tests/latent/test_evaluate_values.py"],
               ["tests/io/test_splits_*.py"]),
})
_D = "echolatent.io.dicom."
_GET = "pydicom's Dataset.get defaults to None: the same value"
_S = "echolatent.io.sector."
_C_IO = "echolatent.io.camus."
_CFG_CHECKED = ("a cfg's frame numbers are checked when it is read (parse_cfg): frame_number never raises here, so "
                "the path it would name is never used")
_NO_VIEW = "a missing text only has to match no view pattern: '', 'None' and 'XXXX' match none"
_ONLY_SPECIAL = ("the photometric is only compared with PALETTE COLOR and MONOCHROME1: any other default (None, "
                 "'XX..XX', lower case) takes the same MONOCHROME2 path")
EQUIVALENT.update({  # io: dicom, sector, camus, video, echonet, readers, cfg, frames, recordings, check, discovery
    **{_D + f"x_holds_image__mutmut_{i}": "the deferred-read size only decides which values pydicom reads lazily: "
       "the same elements are present" for i in (6, 9, 12)},
    **{_D + f"x_holds_image__mutmut_{i}": _GET for i in (18, 24)},
    **{_D + f"x_without_images__mutmut_{i}": "the flags are built from the same list: zip's strictness never acts"
       for i in (9, 12, 13, 17, 20, 21)},
    _D + "x__with_transfer_syntax__mutmut_6": "pydicom sets both parts of original_encoding when it parses a "
    "dataset, or neither: 'or' and 'and' agree",
    **{_D + key: _GET for key in ("x__recording__mutmut_15", "x_frame_rate__mutmut_5", "x_frame_rate__mutmut_18",
                                  "x_frame_rate__mutmut_49", "x_region_spacing__mutmut_5",
                                  "x_region_spacing__mutmut_11", "x_region_spacing__mutmut_20",
                                  "x_region_spacing__mutmut_26", "x_region_spacing__mutmut_33",
                                  "x_region_spacing__mutmut_39", "x_region_spacing__mutmut_147",
                                  "x_view_hint__mutmut_23")},
    **{_D + f"x_read_dicom_series__mutmut_{i}": _GET + " (then `or 1` / `or 0`)" for i in (39, 41, 61, 63)},
    **{_D + f"x__recording__mutmut_{i}": "safe_id turns a missing PatientID (None) into '' like the default"
       for i in (115, 117)},
    _D + "x__recording__mutmut_12": "pydicom's dcmread always gives a file_meta (empty for a file without one)",
    **{_D + f"x__recording__mutmut_{i}": "a file without a TransferSyntaxUID cannot be decoded (grey_frames refuses "
       "it first, tests/io/test_dicom_values.py): the syntax is never None here" for i in (60, 63, 66, 67)},
    **{_D + f"x__recording__mutmut_{i}": "pydicom decodes no pixels without PhotometricInterpretation (grey_frames "
       "refuses the file first): the default is never used" for i in (48, 50, 54)},
    **{_D + f"x_view_hint__mutmut_{i}": _NO_VIEW for i in (4, 6, 7, 30, 32, 36)},
    **{_D + f"x_grey_frames__mutmut_{i}": _ONLY_SPECIAL for i in (62, 64, 68, 69)},
    _D + "x_grey_frames__mutmut_21": "the frame count is only compared with 1: a missing NumberOfFrames passes as 1 "
    "or 2",
    **{_D + f"x_grey_frames__mutmut_{i}": "matmul with the float64 LUMA gives float64 whatever the pixels' dtype"
       for i in (118, 120)},
    **{_D + f"x_grey_frames__mutmut_{i}": "integer pixels times a Python float are float64 without the cast"
       for i in (149, 151)},
    _D + "x_frame_rate__mutmut_23": "pydicom stores a one-item list as a single value, never as a MultiValue: a "
    "MultiValue has 0 or >= 2 items",
    **{f"echolatent.io.video.x_decode_grey__mutmut_{i}": "np.stack gives a new array of its own: copying it or not "
       "changes no value" for i in (58, 60, 62)},
    "echolatent.io.echonet.x__number__mutmut_8": 'float("NAN") is NaN',
    "echolatent.io.echonet.x__rows__mutmut_9": "codec names are case-insensitive",
    **{f"echolatent.io.echonet.x_read_tracings__mutmut_{i}": "the coordinates are Python floats (_number): the array "
       "is float64 without the dtype" for i in (59, 61)},
    **{f"echolatent.io.cfg.x_{name}__mutmut_6": "codec names are case-insensitive"
       for name in ("read_cfg", "read_split_file")},
    "echolatent.io.readers.x_header_spacing__mutmut_4": "'auto' is resolve_spacing's default mode",
    **{f"echolatent.io.readers.x_write_masks__mutmut_{i}": "masks must have the frames' (T, H, W) shape before they "
       "are checked: a 2D array never reaches check_labels, so allow_2d changes nothing" for i in (17, 19, 20)},
    **{_S + f"x_main_piece__mutmut_{i}": "the padding only has to be at least the closing's radius (size): 3 size - 2, "
       "4 size + 2 and 3 size + 3 all are" for i in (12, 14, 15)},
    **{_S + f"x_changing_pixels__mutmut_{i}": "the std of integer frames is float64 without the dtype"
       for i in (18, 20)},
    **{_S + f"x_apply_sector__mutmut_{i}": "np.where gives a new array: copying it or not changes no value"
       for i in (10, 12, 20)},
    _S + "x_outline_sector__mutmut_14": "np.array copies by default",
    _S + "x_outline_sector__mutmut_8": "0 is binary_erosion's default border_value",
    **{_S + f"x__edges__mutmut_{i}": "integer pixel columns or rows: polyfit and the residuals compute in float64 "
       "either way" for i in (17, 19, 24, 26, 47)},
    _S + "x__edges__mutmut_42": "_robust_line itself returns None for fewer than 5 points",
    **{_S + f"x__radii__mutmut_{i}": "edge angles are arctangents, within +-90 degrees: (right - left) / 0.5 < 360, "
       "the upper clip never acts" for i in (5, 13)},
    _S + "x__cone__mutmut_29": "astype(None) is float64",
    **{_S + key: "a piece survives the opening only with a disk of radius >= 2 (13 px): the union is never below 2"
       for key in ("x__cone__mutmut_94", "x_detect_sector__mutmut_49")},
    **{_C_IO + f"x__check_frames__mutmut_{i}": _CFG_CHECKED for i in (20, 23)},
    **{_C_IO + f"x__instants__mutmut_{i}": _CFG_CHECKED for i in (16, 19, 24, 27)},
    **{_C_IO + f"x__check_frames__mutmut_{i}": "one frame: no side is under 1 px, and NbFrame is only read for "
       "sequences, refused below 2 frames: axis_order_problem finds nothing" for i in (30, 35)},
    _C_IO + "x__instants__mutmut_58": "ED == ES is refused just before",
    **{f"echolatent.io.discovery.x_default_refs__mutmut_{i}": "a loose file has no view while every (half) sequence "
       "has one from its CAMUS name: the second test keeps it anyway" for i in (4, 5)},
    "echolatent.io.discovery.x_select_refs__mutmut_27": "a file reaching this line is no recording: recording_refs "
    "gives [] for it",
})
_CK = "echolatent.io.check."
EQUIVALENT.update({  # io: check, check_recordings (issue 24)
    **{_CK + f"xǁ_Checkerǁcheck_cfg__mutmut_{i}": _CFG_CHECKED + " (read_cfg checks them first)" for i in (16, 19)},
    _CK + "xǁ_Checkerǁcheck_mask__mutmut_6": "only err.problem is kept, listed under the mask's path by add: "
    "check_labels' problems never hold the path they are given",
    **{_CK + f"x_structure_problems__mutmut_{i}": "each row of `present` has one entry per Label.foreground() by "
       "construction: zip's strict check never fails" for i in (22, 25, 26)},
    _CK + "xǁ_Checkerǁread__mutmut_13": "with one frame and no NbFrame, axis_order_problem flags nothing (1 frame "
    "never exceeds a side of >= 1 pixel): testing it also for one-frame sequences changes no result",
    "echolatent.io.splits.x_resolve_subset__mutmut_5": "available_subsets of a path that is no folder (a file or "
    "nothing) is [] too: nothing lies under it, so skipping the is_dir test changes no result",
    "echolatent.io.check_recordings.x_echonet_problems__mutmut_6": "read_file_list's InputErrors all name a file "
    "(FileList.csv, VolumeTracings.csv or the root): the fallback after `or` is never evaluated",
})

SURVIVING_WHY.update({  # io
    "cfg": "read_cfg _4, read_split_file _4: encoding None is the locale's, UTF-8 on every machine the tests run "
    "on; the explicit UTF-8 is for machines whose locale is not",
    "sector": "the cone heuristics at exactly their values (apex within a quarter of the height, the 60 % edge window, "
    "bin counts, border rows, inner-radius and IoU limits): the robust edge fits and the running median absorb a "
    "row, a bin or a pixel on the drawn fans",
    "camus": "load_sequence _20: the image's header read again instead of the loaded geometry; the same for NIfTI/MHD, "
    "different only for a DICOM or video image given with a mask",
    "recordings": "not analysed one by one (time): mostly DICOM patient ids of damaged files, series checks and the "
    "sources of values that the tests compare only in part",
    "frames": "not analysed one by one (time): mostly the cache's internals (debug log, the temporary file on a "
    "failed write) and load_frames' default arguments",
})
