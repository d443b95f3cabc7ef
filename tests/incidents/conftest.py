from tests.dosing.conftest import afternoon, on_prescription, protocols  # noqa: F401
from tests.stock.conftest import products, stocked  # noqa: F401
