"""The wheel installs one namespace, scfpga, and no generic top-level modules."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_holds_only_the_scfpga_namespace(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("scfpga-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert all(t == "scfpga" or t.startswith("scfpga-") for t in tops), tops
    for sub in ("model", "hdl", "sim", "boards"):
        assert f"scfpga/{sub}/__init__.py" in names
    assert "scfpga/model/sobol_table.py" in names
