"""Reference datasets: registry, loading, preprocessing as the GRouNdGAN paper, splits, TF lists, control GRNs."""

from datasets.prepare import dataset_tfs, get_split, prepare_dataset
from datasets.registry import DATASETS, DatasetInfo, get_dataset_info, list_datasets
from datasets.tfs import load_tfs

__all__ = ["DATASETS", "DatasetInfo", "dataset_tfs", "get_dataset_info", "get_split", "list_datasets",
           "load_tfs", "prepare_dataset"]
