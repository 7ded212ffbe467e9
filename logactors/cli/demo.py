"""stub"""
from __future__ import annotations
import argparse
DESCRIPTION = ""
EPILOG = ""
def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass
def run(args: argparse.Namespace) -> int:
    return 0
