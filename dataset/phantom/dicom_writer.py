"""Writing the phantom's DICOM: CT Image Storage, Enhanced CT multi-frame, naming, broken files.

Every file is explicit VR little endian with a file meta header (`enforce_file_format`).
Pixels are int16 stored values; HU = stored * RescaleSlope + RescaleIntercept (for Enhanced
CT the rescale sits in SharedFunctionalGroupsSequence > PixelValueTransformationSequence).
Pixels are cut from the 3D phantom per pixel position (IPP + j*col_spacing*row_dir +
i*row_spacing*col_dir), so tilted and coronal images agree with the axial ones.

Naming styles (per study):
  nested   export/<PatientID>/<StudyDate>_<Accession>/<SeriesNumber>_<Desc>/IM000123.dcm
  uid      export/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm
  hashed   export/flat/<sha1(SOPInstanceUID)[:20]>          (no extension, all in one folder)
  siemens  export/<Accession>/S0002/I0010                    (no extension, S = series order)
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .anatomy import Phantom
from .geometry import SeriesPlan

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
UID_PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's documented example root
NAMING_STYLES = ("nested", "uid", "hashed", "siemens")


def make_uid(*parts) -> str:
    """A deterministic UID from its parts (seed, roles, indices)."""
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=[str(p) for p in parts])


@dataclass
class StudyInfo:
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_uid: str
    accession: str
    study_date: str  # YYYYMMDD
    study_time: str
    frame_uid: str
    manufacturer: str
    model: str
    naming: str
    intercept: float
    patient_position: str
    seed: int


def _sanitize(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_")[:24]


def file_path(export: Path, st: StudyInfo, plan: SeriesPlan, file_idx: int, number: int, sop_uid: str) -> Path:
    if st.naming == "nested":
        return (export / st.patient_id / f"{st.study_date}_{st.accession}"
                / f"{plan.series_number:03d}_{_sanitize(plan.description)}" / f"IM{number:06d}.dcm")
    if st.naming == "uid":
        return export / st.patient_id / st.study_uid / plan.series_uid / f"{sop_uid}.dcm"
    if st.naming == "hashed":
        return export / "flat" / hashlib.sha1(sop_uid.encode()).hexdigest()[:20]
    return export / st.accession / f"S{plan.series_index + 1:04d}" / f"I{(file_idx + 1) * 10:04d}"


def _base(st: StudyInfo, plan: SeriesPlan, sop_class: str) -> Dataset:
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = sop_class
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = UID_PREFIX + "1"
    ds = Dataset()
    ds.file_meta = fm
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.StudyDate = st.study_date
    ds.SeriesDate = st.study_date
    ds.ContentDate = st.study_date
    ds.StudyTime = st.study_time
    ds.SeriesTime = st.study_time
    ds.AccessionNumber = st.accession
    ds.Modality = "CT"
    ds.Manufacturer = st.manufacturer
    ds.ManufacturerModelName = st.model
    ds.InstitutionName = "Phantom General Hospital"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "CT THORAX"
    ds.SeriesDescription = plan.description
    ds.PatientName = st.patient_name
    ds.PatientID = st.patient_id
    ds.PatientBirthDate = st.birth_date
    ds.PatientSex = st.sex
    ds.BodyPartExamined = "CHEST"
    ds.KVP = 120
    ds.ConvolutionKernel = plan.kernel
    ds.PatientPosition = st.patient_position
    ds.StudyInstanceUID = st.study_uid
    ds.SeriesInstanceUID = plan.series_uid
    ds.StudyID = st.accession[-4:]
    ds.SeriesNumber = plan.series_number
    ds.AcquisitionNumber = 1
    ds.FrameOfReferenceUID = st.frame_uid
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = plan.rows
    ds.Columns = plan.cols
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    return ds


def _to_stored(hu: np.ndarray, intercept: float) -> np.ndarray:
    return np.clip(np.rint(hu - intercept), -32768, 32767).astype("<i2")


def series_pixels(ph: Phantom, plan: SeriesPlan, rng: np.random.Generator, noise_hu: float = 12.0):
    """Yield (k, HU image float32) for each slice of the plan, in plane order."""
    for k in range(plan.n_slices):
        if plan.key == "localizer":
            # a projection-like scout: mean over 15 planes through the body
            pts = plan.pixel_points(k)
            acc = np.zeros(pts.shape[:2], np.float32)
            for dy in np.linspace(-110, 110, 15):
                acc += ph.sample(pts + plan.normal.astype(np.float32) * np.float32(dy))
            hu = acc / 15.0
        else:
            hu = ph.sample(plan.pixel_points(k))
        hu = hu + rng.normal(0.0, noise_hu, hu.shape).astype(np.float32)
        yield k, hu


def write_single_frame_series(export: Path, st: StudyInfo, plan: SeriesPlan, ph: Phantom,
                              rng: np.random.Generator, drop_ipp_slice: int | None = None) -> list[dict]:
    """Write one CT Image Storage file per slice; returns one record per written file."""
    ds = _base(st, plan, CT_IMAGE_STORAGE)
    ds.ImageType = plan.image_type
    ds.ImageOrientationPatient = plan.iop
    ds.PixelSpacing = [round(plan.pixel_spacing[0], 6), round(plan.pixel_spacing[1], 6)]
    ds.SliceThickness = round(plan.thickness, 4)
    if plan.n_slices > 1:
        ds.SpacingBetweenSlices = round(plan.spacing, 4)
    ds.RescaleIntercept = int(st.intercept)
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    lung = "LUNG" in plan.description.upper() or plan.kernel.startswith("B7")
    ds.WindowCenter, ds.WindowWidth = (-600, 1500) if lung else (40, 400)
    if plan.tilt_deg:
        ds.GantryDetectorTilt = round(plan.tilt_deg, 2)
    records = []
    for k, hu in series_pixels(ph, plan, rng):
        number = plan.image_number(k)
        sop = make_uid(st.seed, st.study_uid, plan.series_uid, "sop", k)
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.SOPInstanceUID = sop
        ds.InstanceNumber = number
        ipp = plan.ipp(k)
        ds.ImagePositionPatient = [round(float(v), 4) for v in ipp]
        if plan.plane == "axial" and not plan.tilt_deg:
            ds.SliceLocation = round(float(ipp[2]), 4)
        elif "SliceLocation" in ds:
            del ds.SliceLocation
        ds.PixelData = _to_stored(hu, st.intercept).tobytes()
        path = file_path(export, st, plan, k, number, sop)
        path.parent.mkdir(parents=True, exist_ok=True)
        if drop_ipp_slice is not None and k == drop_ipp_slice:
            saved = ds.ImagePositionPatient
            del ds.ImagePositionPatient
            dcmwrite(path, ds, enforce_file_format=True)
            ds.ImagePositionPatient = saved
        else:
            dcmwrite(path, ds, enforce_file_format=True)
        records.append({"path": path, "k": k, "number": number, "sop_uid": sop})
    return records


def write_enhanced_series(export: Path, st: StudyInfo, plan: SeriesPlan, ph: Phantom,
                          rng: np.random.Generator) -> list[dict]:
    """Write the whole stack as one Enhanced CT Image Storage file (frames = image numbers)."""
    ds = _base(st, plan, ENHANCED_CT_IMAGE_STORAGE)
    sop = make_uid(st.seed, st.study_uid, plan.series_uid, "sop", "mf")
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SOPInstanceUID = sop
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.InstanceNumber = 1
    ds.ContentTime = st.study_time
    ds.AcquisitionDateTime = st.study_date + st.study_time
    ds.ContentQualification = "PRODUCT"
    ds.NumberOfFrames = plan.n_slices
    ds.PresentationLUTShape = "IDENTITY"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.VolumetricProperties = "VOLUME"
    ds.VolumeBasedCalculationTechnique = "NONE"
    ds.PixelPresentation = "MONOCHROME"
    ds.DimensionOrganizationType = "3D"
    dim_uid = make_uid(st.seed, plan.series_uid, "dim")
    org = Dataset()
    org.DimensionOrganizationUID = dim_uid
    ds.DimensionOrganizationSequence = Sequence([org])
    idx_items = []
    for ptr, grp in ((0x00209056, 0x00209111), (0x00209057, 0x00209111)):  # StackID, InStackPositionNumber
        it = Dataset()
        it.DimensionOrganizationUID = dim_uid
        it.DimensionIndexPointer = ptr
        it.FunctionalGroupPointer = grp
        idx_items.append(it)
    ds.DimensionIndexSequence = Sequence(idx_items)

    shared = Dataset()
    pm = Dataset()
    pm.PixelSpacing = [round(plan.pixel_spacing[0], 6), round(plan.pixel_spacing[1], 6)]
    pm.SliceThickness = round(plan.thickness, 4)
    pm.SpacingBetweenSlices = round(plan.spacing, 4)
    shared.PixelMeasuresSequence = Sequence([pm])
    po = Dataset()
    po.ImageOrientationPatient = plan.iop
    shared.PlaneOrientationSequence = Sequence([po])
    pvt = Dataset()
    pvt.RescaleIntercept = int(st.intercept)
    pvt.RescaleSlope = 1
    pvt.RescaleType = "HU"
    shared.PixelValueTransformationSequence = Sequence([pvt])
    ft = Dataset()
    ft.FrameType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    shared.CTImageFrameTypeSequence = Sequence([ft])
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = -600, 1500
    shared.FrameVOILUTSequence = Sequence([voi])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])

    frames = np.empty((plan.n_slices, plan.rows, plan.cols), dtype="<i2")
    per_frame = [None] * plan.n_slices
    for k, hu in series_pixels(ph, plan, rng):
        f = plan.image_number(k) - 1  # frame index
        frames[f] = _to_stored(hu, st.intercept)
        item = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [round(float(v), 4) for v in plan.ipp(k)]
        item.PlanePositionSequence = Sequence([pp])
        fc = Dataset()
        fc.FrameAcquisitionNumber = 1
        fc.StackID = "1"
        fc.InStackPositionNumber = f + 1
        fc.DimensionIndexValues = [1, f + 1]
        item.FrameContentSequence = Sequence([fc])
        per_frame[f] = item
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = frames.tobytes()
    path = file_path(export, st, plan, 0, 1, sop)
    path.parent.mkdir(parents=True, exist_ok=True)
    dcmwrite(path, ds, enforce_file_format=True)
    return [{"path": path, "k": None, "number": 1, "sop_uid": sop}]


def write_broken_files(export: Path, st: StudyInfo, sample_file: Path, seed: int) -> list[dict]:
    """A truncated copy of a real slice, a text file named like DICOM, a zero-byte file."""
    folder = sample_file.parent
    tag = hashlib.sha1(f"{seed}-{st.accession}".encode()).hexdigest()[:8]
    out = []
    data = sample_file.read_bytes()
    p = folder / f"{sample_file.stem}_copy{sample_file.suffix}"
    p.write_bytes(data[: max(200, len(data) // 3)])
    out.append({"path": p, "kind": "truncated"})
    p = folder / f"IM{tag}.dcm"
    p.write_text("This is not a DICOM file.\nExported by PhantomPACS: see manifest.\n")
    out.append({"path": p, "kind": "not_dicom"})
    p = folder / f"{tag}_empty"
    p.write_bytes(b"")
    out.append({"path": p, "kind": "zero_bytes"})
    return out


__all__ = [
    "StudyInfo", "make_uid", "file_path", "write_single_frame_series", "write_enhanced_series",
    "write_broken_files", "NAMING_STYLES", "CT_IMAGE_STORAGE", "ENHANCED_CT_IMAGE_STORAGE",
]
