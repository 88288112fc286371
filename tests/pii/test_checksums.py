import pytest

from plugin.pii.checksums import elfproef_valid, iso7064_mod11_10_valid, luhn_valid, mod97_valid


@pytest.mark.parametrize("digits,valid", [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)])
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize("value,valid", [("NL91ABNA0417164300", True), ("NL92ABNA0417164300", False), ("GB29NWBK60161331926819", True)])
def test_mod97(value, valid):
    assert mod97_valid(value) is valid


@pytest.mark.parametrize("digits,valid", [("111222333", True), ("123456782", True), ("123456789", False), ("000000000", False), ("12345678", False)])
def test_elfproef(digits, valid):
    assert elfproef_valid(digits) is valid


@pytest.mark.parametrize("digits,valid", [("136695976", True), ("136695977", False)])
def test_iso7064_mod11_10(digits, valid):
    assert iso7064_mod11_10_valid(digits) is valid
