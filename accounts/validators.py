import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.dk import cvr
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr

# Per country: the module that checks the number, the message for a number of the wrong shape, and the
# message for a number of the right shape whose check digit is wrong (most often a mistyped digit).
REGISTRATION_NUMBER_RULES = {
    "DK": (cvr, _("Enter a valid CVR number (8 digits)."),
           _("The check digit of this CVR number is wrong. Check that each digit is typed correctly.")),
    "SE": (orgnr, _("Enter a valid organisation number (10 digits, for example 556036-0793)."),
           _("The check digit of this organisation number is wrong. Check that each digit is typed correctly.")),
}


def normalise_registration_number(country: str, value: str) -> str:
    """The compact form of a Danish CVR or Swedish organisation number, or a ValidationError."""
    if country not in REGISTRATION_NUMBER_RULES:
        raise ValidationError(_("Choose Denmark or Sweden."), code="country")
    module, message, checksum_message = REGISTRATION_NUMBER_RULES[country]
    try:
        return module.validate(value)
    except InvalidChecksum:
        raise ValidationError(checksum_message, code="registration_number_check_digit") from None
    except StdnumError:
        raise ValidationError(message, code="invalid_registration_number") from None


def normalise_mobile(value: str, default_region: str = "DK") -> str:
    """A mobile number in E.164 form (+4512345678), or a ValidationError."""
    message = _("Enter a valid mobile number, for example +45 20 12 34 56.")
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        raise ValidationError(message, code="invalid_mobile") from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(message, code="invalid_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile(value: str) -> None:
    normalise_mobile(value)
