"""Readers and writers: one interface per recording format (:mod:`.readers`), single files with their geometry
(:mod:`.volume`), the CAMUS layout (:mod:`.camus`), what a command works on (:mod:`.discovery`), DICOM (:mod:`.dicom`)
and video (:mod:`.video`) recordings, registered here so :func:`echolatent.io.readers.read_recording` reads them all."""

from echolatent.io.dicom import DICOM_READER
from echolatent.io.readers import register_reader, registered_readers
from echolatent.io.video import VIDEO_READER

for _reader in (DICOM_READER, VIDEO_READER):
    if _reader not in registered_readers():
        register_reader(_reader)
