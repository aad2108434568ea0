"""The hosted checkout's words in English, Spanish, French and German; the customer's language,
and dates and times in it.

A small catalog kept in code (one entry per message id, every language side by side) rather than
gettext files: the checkout has a few dozen strings, a reviewer sees a missing translation in
the same diff, and `test_every_message_is_translated` fails on a gap. Locales are negotiated
with Babel from the browser's Accept-Language; amounts are formatted by Babel through
`backend.core.currency.format_money` with the customer's locale; dates and times by Babel in
the customer's locale and time zone (the browser's, `format_moment`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.dates import format_date, format_time, format_timedelta, get_datetime_format

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
# A language's default region for number and currency formats when the browser names none.
_DEFAULT_LOCALE = {"en": "en_US", "es": "es_ES", "fr": "fr_FR", "de": "de_DE"}

MESSAGES: dict[str, dict[str, str]] = {
    "pay_title": {
        "en": "Pay {merchant}",
        "es": "Pagar a {merchant}",
        "fr": "Payer {merchant}",
        "de": "{merchant} bezahlen",
    },
    "order_summary": {
        "en": "Order summary",
        "es": "Resumen del pedido",
        "fr": "Récapitulatif",
        "de": "Bestellübersicht",
    },
    "quantity": {"en": "Qty {n}", "es": "Cant. {n}", "fr": "Qté {n}", "de": "Anz. {n}"},
    "total": {"en": "Total", "es": "Total", "fr": "Total", "de": "Gesamt"},
    "contact": {"en": "Contact", "es": "Contacto", "fr": "Contact", "de": "Kontakt"},
    "email": {"en": "E-mail", "es": "Correo electrónico", "fr": "E-mail", "de": "E-Mail"},
    "email_help": {
        "en": "Your receipt is sent here.",
        "es": "Aquí te enviaremos el recibo.",
        "fr": "Votre reçu sera envoyé ici.",
        "de": "Ihre Quittung wird hierhin gesendet.",
    },
    "payment": {"en": "Payment", "es": "Pago", "fr": "Paiement", "de": "Zahlung"},
    "card_name": {
        "en": "Name on card",
        "es": "Nombre en la tarjeta",
        "fr": "Nom sur la carte",
        "de": "Name auf der Karte",
    },
    "card_number": {
        "en": "Card number",
        "es": "Número de tarjeta",
        "fr": "Numéro de carte",
        "de": "Kartennummer",
    },
    "card_expiry": {
        "en": "Expiry (MM/YY)",
        "es": "Caducidad (MM/AA)",
        "fr": "Expiration (MM/AA)",
        "de": "Gültig bis (MM/JJ)",
    },
    "card_cvc": {
        "en": "Security code",
        "es": "Código de seguridad",
        "fr": "Cryptogramme",
        "de": "Sicherheitscode",
    },
    "postal_code": {
        "en": "Postal code",
        "es": "Código postal",
        "fr": "Code postal",
        "de": "Postleitzahl",
    },
    "pay_button": {
        "en": "Pay {amount}",
        "es": "Pagar {amount}",
        "fr": "Payer {amount}",
        "de": "{amount} bezahlen",
    },
    "processing": {
        "en": "Processing…",
        "es": "Procesando…",
        "fr": "Traitement…",
        "de": "Wird verarbeitet…",
    },
    "cancel": {
        "en": "Cancel and return to {merchant}",
        "es": "Cancelar y volver a {merchant}",
        "fr": "Annuler et revenir à {merchant}",
        "de": "Abbrechen und zurück zu {merchant}",
    },
    "test_note": {
        "en": "Test page: no real money moves. Use the card 4242 4242 4242 4242, any future "
        "date and any security code.",
        "es": "Página de prueba: no se mueve dinero real. Usa la tarjeta 4242 4242 4242 4242, "
        "cualquier fecha futura y cualquier código.",
        "fr": "Page de test : aucun argent réel. Utilisez la carte 4242 4242 4242 4242, une date "
        "future et n'importe quel cryptogramme.",
        "de": "Testseite: Es wird kein echtes Geld bewegt. Verwenden Sie die Karte "
        "4242 4242 4242 4242, ein beliebiges künftiges Datum und einen "
        "beliebigen Sicherheitscode.",
    },
    "save_card": {
        "en": "Save this card for future payments",
        "es": "Guardar esta tarjeta para pagos futuros",
        "fr": "Enregistrer cette carte pour les paiements futurs",
        "de": "Diese Karte für künftige Zahlungen speichern",
    },
    "save_consent": {
        "en": "I allow {merchant} to charge this card for future payments according to its terms.",
        "es": "Autorizo a {merchant} a cargar esta tarjeta en pagos futuros según sus condiciones.",
        "fr": "J'autorise {merchant} à débiter cette carte pour des paiements futurs selon ses "
        "conditions.",
        "de": "Ich erlaube {merchant}, diese Karte gemäß seinen Bedingungen für künftige "
        "Zahlungen zu belasten.",
    },
    "secure_note": {
        "en": "Payments are encrypted. Your card number is never stored.",
        "es": "Los pagos están cifrados. Nunca guardamos el número de tu tarjeta.",
        "fr": "Les paiements sont chiffrés. Votre numéro de carte n'est jamais conservé.",
        "de": "Zahlungen werden verschlüsselt. Ihre Kartennummer wird nie gespeichert.",
    },
    "language": {"en": "Language", "es": "Idioma", "fr": "Langue", "de": "Sprache"},
    # inline validation (the browser checks as the customer types; the server checks again)
    "err_email": {
        "en": "Enter a valid e-mail address.",
        "es": "Introduce un correo electrónico válido.",
        "fr": "Saisissez une adresse e-mail valide.",
        "de": "Geben Sie eine gültige E-Mail-Adresse ein.",
    },
    "err_name": {
        "en": "Enter the name on the card.",
        "es": "Introduce el nombre que figura en la tarjeta.",
        "fr": "Saisissez le nom figurant sur la carte.",
        "de": "Geben Sie den Namen auf der Karte ein.",
    },
    "err_number": {
        "en": "Your card number is incomplete or mistyped.",
        "es": "El número de la tarjeta está incompleto o es incorrecto.",
        "fr": "Le numéro de carte est incomplet ou erroné.",
        "de": "Die Kartennummer ist unvollständig oder falsch.",
    },
    "err_expiry": {
        "en": "Enter the expiry date as MM/YY.",
        "es": "Introduce la fecha de caducidad como MM/AA.",
        "fr": "Saisissez la date d'expiration au format MM/AA.",
        "de": "Geben Sie das Ablaufdatum als MM/JJ ein.",
    },
    "err_expired": {
        "en": "This card's expiry date is in the past.",
        "es": "La fecha de caducidad de esta tarjeta ya pasó.",
        "fr": "La date d'expiration de cette carte est dépassée.",
        "de": "Das Ablaufdatum dieser Karte liegt in der Vergangenheit.",
    },
    "err_cvc": {
        "en": "Enter the {n}-digit security code.",
        "es": "Introduce el código de seguridad de {n} dígitos.",
        "fr": "Saisissez le cryptogramme à {n} chiffres.",
        "de": "Geben Sie den {n}-stelligen Sicherheitscode ein.",
    },
    "err_postal": {
        "en": "Enter your postal code.",
        "es": "Introduce tu código postal.",
        "fr": "Saisissez votre code postal.",
        "de": "Geben Sie Ihre Postleitzahl ein.",
    },
    "err_form": {
        "en": "Check the highlighted fields.",
        "es": "Revisa los campos marcados.",
        "fr": "Vérifiez les champs signalés.",
        "de": "Prüfen Sie die markierten Felder.",
    },
    # declines and failures, written for customers
    "card_declined": {
        "en": "Your card was declined. Try another card or contact your bank.",
        "es": "Tu tarjeta fue rechazada. Prueba con otra tarjeta o contacta con tu banco.",
        "fr": "Votre carte a été refusée. Essayez une autre carte ou contactez votre banque.",
        "de": "Ihre Karte wurde abgelehnt. Versuchen Sie es mit einer anderen Karte "
        "oder wenden Sie sich an Ihre Bank.",
    },
    "insufficient_funds": {
        "en": "Your card has insufficient funds. Try another card.",
        "es": "Tu tarjeta no tiene fondos suficientes. Prueba con otra tarjeta.",
        "fr": "Le solde de votre carte est insuffisant. Essayez une autre carte.",
        "de": "Ihre Karte ist nicht ausreichend gedeckt. Versuchen Sie es mit einer anderen Karte.",
    },
    "expired_card": {
        "en": "Your card has expired. Check the date or use another card.",
        "es": "Tu tarjeta ha caducado. Revisa la fecha o usa otra tarjeta.",
        "fr": "Votre carte a expiré. Vérifiez la date ou utilisez une autre carte.",
        "de": "Ihre Karte ist abgelaufen. Prüfen Sie das Datum oder verwenden Sie "
        "eine andere Karte.",
    },
    "incorrect_cvc": {
        "en": "Your card's security code is incorrect. Check it and try again.",
        "es": "El código de seguridad no es correcto. Revísalo e inténtalo de nuevo.",
        "fr": "Le cryptogramme est incorrect. Vérifiez-le et réessayez.",
        "de": "Der Sicherheitscode Ihrer Karte ist falsch. Prüfen Sie ihn und "
        "versuchen Sie es erneut.",
    },
    "authentication_failed": {
        "en": "Your bank could not confirm this payment. Try again or use another card.",
        "es": "Tu banco no pudo confirmar el pago. Inténtalo de nuevo o usa otra tarjeta.",
        "fr": "Votre banque n'a pas pu confirmer ce paiement. Réessayez ou changez de carte.",
        "de": "Ihre Bank konnte diese Zahlung nicht bestätigen. Versuchen Sie es "
        "erneut oder verwenden Sie eine andere Karte.",
    },
    "not_a_test_card": {
        "en": "This is a test page: use a test card such as 4242 4242 4242 4242.",
        "es": "Esta es una página de prueba: usa una tarjeta de prueba como 4242 4242 4242 4242.",
        "fr": "Ceci est une page de test : utilisez une carte de test comme 4242 4242 4242 4242.",
        "de": "Dies ist eine Testseite: Verwenden Sie eine Testkarte wie 4242 4242 4242 4242.",
    },
    "payment_blocked": {
        "en": "This payment could not be accepted. Contact the seller.",
        "es": "No se pudo aceptar este pago. Contacta con el vendedor.",
        "fr": "Ce paiement n'a pas pu être accepté. Contactez le vendeur.",
        "de": "Diese Zahlung konnte nicht angenommen werden. Wenden Sie sich an den Verkäufer.",
    },
    # test mode only, for the merchant trying their checkout: {rule} is the rule in words
    "payment_blocked_test": {
        "en": "Test mode: the risk rules blocked this payment ({rule}). A live customer sees "
        "only that the payment could not be accepted.",
        "es": "Modo de prueba: las reglas de riesgo bloquearon este pago ({rule}). Un cliente "
        "real solo verá que el pago no se pudo aceptar.",
        "fr": "Mode test : les règles de risque ont bloqué ce paiement ({rule}). Un vrai client "
        "verra seulement que le paiement n'a pas pu être accepté.",
        "de": "Testmodus: Die Risikoregeln haben diese Zahlung blockiert ({rule}). Echte Kunden "
        "sehen nur, dass die Zahlung nicht angenommen werden konnte.",
    },
    "unavailable": {
        "en": "We couldn't reach the payment network. Nothing was charged; try again in a moment.",
        "es": "No pudimos contactar con la red de pagos. No se cobró nada; inténtalo en un "
        "momento.",
        "fr": "Le réseau de paiement est injoignable. Rien n'a été débité ; réessayez dans un "
        "instant.",
        "de": "Das Zahlungsnetz ist nicht erreichbar. Es wurde nichts abgebucht; "
        "versuchen Sie es gleich noch einmal.",
    },
    # 3-D Secure
    "challenge_title": {
        "en": "Confirm with your bank",
        "es": "Confirma con tu banco",
        "fr": "Confirmez auprès de votre banque",
        "de": "Bei Ihrer Bank bestätigen",
    },
    "challenge_text": {
        "en": "Your bank asks you to confirm this payment of {amount} to {merchant}.",
        "es": "Tu banco te pide confirmar este pago de {amount} a {merchant}.",
        "fr": "Votre banque vous demande de confirmer ce paiement de {amount} à {merchant}.",
        "de": "Ihre Bank bittet Sie, diese Zahlung von {amount} an {merchant} zu bestätigen.",
    },
    "challenge_test": {
        "en": "Test 3-D Secure: choose what the bank answers.",
        "es": "3-D Secure de prueba: elige la respuesta del banco.",
        "fr": "3-D Secure de test : choisissez la réponse de la banque.",
        "de": "Test-3-D-Secure: Wählen Sie die Antwort der Bank.",
    },
    "approve": {
        "en": "Approve the payment",
        "es": "Aprobar el pago",
        "fr": "Approuver le paiement",
        "de": "Zahlung bestätigen",
    },
    "fail": {
        "en": "Fail authentication",
        "es": "Rechazar la autenticación",
        "fr": "Refuser l'authentification",
        "de": "Authentifizierung ablehnen",
    },
    # The sandbox's test wallet (the live page shows Stripe's own Apple Pay and Google Pay)
    "wallet_apple_pay": {
        "en": "Apple Pay · test wallet",
        "es": "Apple Pay · billetera de prueba",
        "fr": "Apple Pay · portefeuille de test",
        "de": "Apple Pay · Test-Wallet",
    },
    "wallet_google_pay": {
        "en": "Google Pay · test wallet",
        "es": "Google Pay · billetera de prueba",
        "fr": "Google Pay · portefeuille de test",
        "de": "Google Pay · Test-Wallet",
    },
    "wallet_test": {
        "en": "Test mode: these buttons stand in for Apple Pay and Google Pay and pay with "
        "the test card Visa •••• 4242.",
        "es": "Modo de prueba: estos botones sustituyen a Apple Pay y Google Pay y pagan con "
        "la tarjeta de prueba Visa •••• 4242.",
        "fr": "Mode test : ces boutons remplacent Apple Pay et Google Pay et paient avec la "
        "carte de test Visa •••• 4242.",
        "de": "Testmodus: Diese Schaltflächen ersetzen Apple Pay und Google Pay und zahlen mit "
        "der Testkarte Visa •••• 4242.",
    },
    "or_card": {
        "en": "or pay by card",
        "es": "o paga con tarjeta",
        "fr": "ou payez par carte",
        "de": "oder mit Karte bezahlen",
    },
    # PayPal
    "or": {"en": "or", "es": "o", "fr": "ou", "de": "oder"},
    "pay_with_paypal": {
        "en": "Pay with PayPal",
        "es": "Pagar con PayPal",
        "fr": "Payer avec PayPal",
        "de": "Mit PayPal bezahlen",
    },
    "paypal_title": {
        "en": "Approve with PayPal",
        "es": "Aprueba con PayPal",
        "fr": "Approuvez avec PayPal",
        "de": "Mit PayPal bestätigen",
    },
    "paypal_text": {
        "en": "Approve the payment of {amount} to {merchant} in PayPal.",
        "es": "Aprueba el pago de {amount} a {merchant} en PayPal.",
        "fr": "Approuvez le paiement de {amount} à {merchant} dans PayPal.",
        "de": "Bestätigen Sie die Zahlung von {amount} an {merchant} in PayPal.",
    },
    "paypal_test": {
        "en": "Test mode: this page stands in for PayPal's own approval page.",
        "es": "Modo de prueba: esta página sustituye a la página de aprobación de PayPal.",
        "fr": "Mode test : cette page remplace la page d'approbation de PayPal.",
        "de": "Testmodus: Diese Seite ersetzt die Bestätigungsseite von PayPal.",
    },
    "paypal_continue": {
        "en": "Continue to PayPal",
        "es": "Continuar a PayPal",
        "fr": "Continuer vers PayPal",
        "de": "Weiter zu PayPal",
    },
    "paypal_approve": {
        "en": "Approve with PayPal",
        "es": "Aprobar con PayPal",
        "fr": "Approuver avec PayPal",
        "de": "Mit PayPal bestätigen",
    },
    "paypal_cancel": {
        "en": "Cancel and choose another way to pay",
        "es": "Cancelar y elegir otra forma de pago",
        "fr": "Annuler et choisir un autre moyen de paiement",
        "de": "Abbrechen und anders bezahlen",
    },
    "payment_canceled": {
        "en": "The PayPal payment was cancelled. Nothing was charged.",
        "es": "Se canceló el pago con PayPal. No se cobró nada.",
        "fr": "Le paiement PayPal a été annulé. Rien n'a été débité.",
        "de": "Die PayPal-Zahlung wurde abgebrochen. Es wurde nichts abgebucht.",
    },
    # Bank payments (ACH), through Plaid Link or its offline twin
    "pay_by_bank": {
        "en": "Pay by bank",
        "es": "Pagar con cuenta bancaria",
        "fr": "Payer par compte bancaire",
        "de": "Per Bankkonto bezahlen",
    },
    "bank_title": {
        "en": "Pay from your US bank account",
        "es": "Paga desde tu cuenta bancaria de EE. UU.",
        "fr": "Payez depuis votre compte bancaire américain",
        "de": "Von Ihrem US-Bankkonto bezahlen",
    },
    "bank_test": {
        "en": "Test mode: this picker stands in for Plaid, which connects your bank. "
        "Each test account ends as its description says.",
        "es": "Modo de prueba: este selector sustituye a Plaid, que conecta tu banco. "
        "Cada cuenta de prueba termina como indica su descripción.",
        "fr": "Mode test : ce sélecteur remplace Plaid, qui connecte votre banque. "
        "Chaque compte de test se termine comme sa description l'indique.",
        "de": "Testmodus: Diese Auswahl ersetzt Plaid, das Ihre Bank verbindet. "
        "Jedes Testkonto endet so, wie seine Beschreibung sagt.",
    },
    "bank_name": {"en": "Bank", "es": "Banco", "fr": "Banque", "de": "Bank"},
    "bank_account": {"en": "Account", "es": "Cuenta", "fr": "Compte", "de": "Konto"},
    "bank_account_choice": {
        "en": "···{last4}: {outcome}",
        "es": "···{last4}: {outcome}",
        "fr": "···{last4} : {outcome}",
        "de": "···{last4}: {outcome}",
    },
    # What each of the twin's test accounts does (backend/gateways/sandbox_bank.py).
    "bank_outcome_ok": {
        "en": "succeeds",
        "es": "se completa",
        "fr": "réussit",
        "de": "gelingt",
    },
    "bank_outcome_R01": {
        "en": "fails, insufficient funds (R01)",
        "es": "falla, fondos insuficientes (R01)",
        "fr": "échoue, provision insuffisante (R01)",
        "de": "scheitert, keine Deckung (R01)",
    },
    "bank_outcome_R02": {
        "en": "fails, account closed (R02)",
        "es": "falla, cuenta cerrada (R02)",
        "fr": "échoue, compte clôturé (R02)",
        "de": "scheitert, Konto aufgelöst (R02)",
    },
    "bank_outcome_R03": {
        "en": "fails, no such account (R03)",
        "es": "falla, la cuenta no existe (R03)",
        "fr": "échoue, compte inexistant (R03)",
        "de": "scheitert, Konto existiert nicht (R03)",
    },
    "bank_outcome_R10": {
        "en": "fails, debit not authorised (R10)",
        "es": "falla, cargo no autorizado (R10)",
        "fr": "échoue, prélèvement non autorisé (R10)",
        "de": "scheitert, Lastschrift nicht genehmigt (R10)",
    },
    "bank_outcome_okR01": {
        "en": "succeeds, then is returned (R01)",
        "es": "se completa y luego se devuelve (R01)",
        "fr": "réussit, puis est rejeté (R01)",
        "de": "gelingt, wird dann zurückgegeben (R01)",
    },
    "bank_mandate_heading": {
        "en": "Your authorisation",
        "es": "Tu autorización",
        "fr": "Votre autorisation",
        "de": "Ihre Ermächtigung",
    },
    "bank_mandate": {
        "en": "By selecting “Authorise and pay”, you authorise {merchant} to debit {amount} "
        "once from the bank account you chose, through the ACH network. Banks take a few "
        "business days to confirm a debit; if yours returns it, {merchant} will ask you to "
        "pay another way. You can revoke this authorisation by contacting {merchant} before "
        "the debit is made.",
        "es": "Al seleccionar «Autorizar y pagar», autorizas a {merchant} a cargar {amount} una "
        "sola vez en la cuenta bancaria que elegiste, a través de la red ACH. Los bancos tardan "
        "unos días hábiles en confirmar un cargo; si el tuyo lo devuelve, {merchant} te pedirá "
        "que pagues de otra forma. Puedes revocar esta autorización contactando con "
        "{merchant} antes de que se haga el cargo.",
        "fr": "En sélectionnant « Autoriser et payer », vous autorisez {merchant} à prélever "
        "{amount} une seule fois sur le compte bancaire choisi, via le réseau ACH. Les banques "
        "mettent quelques jours ouvrés à confirmer un prélèvement ; si la vôtre le rejette, "
        "{merchant} vous demandera de payer autrement. Vous pouvez révoquer cette autorisation "
        "en contactant {merchant} avant le prélèvement.",
        "de": "Mit „Ermächtigen und bezahlen“ ermächtigen Sie {merchant}, {amount} einmalig "
        "über das ACH-Netz von dem gewählten Bankkonto abzubuchen. Banken bestätigen eine "
        "Lastschrift erst nach einigen Werktagen; gibt Ihre Bank sie zurück, bittet {merchant} "
        "Sie, anders zu bezahlen. Sie können diese Ermächtigung widerrufen, indem Sie "
        "{merchant} vor der Abbuchung kontaktieren.",
    },
    "bank_pay": {
        "en": "Authorise and pay {amount}",
        "es": "Autorizar y pagar {amount}",
        "fr": "Autoriser et payer {amount}",
        "de": "Ermächtigen und {amount} bezahlen",
    },
    "bank_back": {
        "en": "Pay by card instead",
        "es": "Pagar con tarjeta",
        "fr": "Payer par carte",
        "de": "Stattdessen mit Karte bezahlen",
    },
    "bank_relink": {
        "en": "The bank connection expired. Choose your bank account again.",
        "es": "La conexión con el banco caducó. Vuelve a elegir tu cuenta bancaria.",
        "fr": "La connexion à la banque a expiré. Choisissez de nouveau votre compte bancaire.",
        "de": "Die Bankverbindung ist abgelaufen. Wählen Sie Ihr Bankkonto erneut.",
    },
    "bank_debit_failed": {
        "en": "Your bank did not accept this debit. Choose another account or pay by card.",
        "es": "Tu banco no aceptó este cargo. Elige otra cuenta o paga con tarjeta.",
        "fr": "Votre banque n'a pas accepté ce prélèvement. Choisissez un autre compte ou "
        "payez par carte.",
        "de": "Ihre Bank hat diese Lastschrift nicht angenommen. Wählen Sie ein anderes "
        "Konto oder zahlen Sie mit Karte.",
    },
    "processing_title": {
        "en": "Bank payment on its way",
        "es": "Pago bancario en curso",
        "fr": "Paiement bancaire en cours",
        "de": "Bankzahlung unterwegs",
    },
    "processing_text": {
        "en": "Your bank payment of {amount} to {merchant} is processing. Banks take a few "
        "business days to confirm it; nothing more is needed from you.",
        "es": "Tu pago bancario de {amount} a {merchant} se está procesando. Los bancos tardan "
        "unos días hábiles en confirmarlo; no necesitas hacer nada más.",
        "fr": "Votre paiement bancaire de {amount} à {merchant} est en cours de traitement. "
        "Les banques mettent quelques jours ouvrés à le confirmer ; vous n'avez rien d'autre "
        "à faire.",
        "de": "Ihre Bankzahlung von {amount} an {merchant} wird bearbeitet. Banken bestätigen "
        "sie erst nach einigen Werktagen; Sie müssen nichts weiter tun.",
    },
    "paid_by_bank": {
        "en": "Bank account ···{last4} ({bank})",
        "es": "Cuenta bancaria ···{last4} ({bank})",
        "fr": "Compte bancaire ···{last4} ({bank})",
        "de": "Bankkonto ···{last4} ({bank})",
    },
    # outcomes
    "paid_title": {
        "en": "Payment successful",
        "es": "Pago completado",
        "fr": "Paiement réussi",
        "de": "Zahlung erfolgreich",
    },
    "paid_text": {
        "en": "You paid {amount} to {merchant}.",
        "es": "Has pagado {amount} a {merchant}.",
        "fr": "Vous avez payé {amount} à {merchant}.",
        "de": "Sie haben {amount} an {merchant} bezahlt.",
    },
    "receipt": {"en": "Receipt", "es": "Recibo", "fr": "Reçu", "de": "Quittung"},
    "receipt_sent": {
        "en": "A receipt was sent to {email}.",
        "es": "Enviamos un recibo a {email}.",
        "fr": "Un reçu a été envoyé à {email}.",
        "de": "Eine Quittung wurde an {email} gesendet.",
    },
    "paid_with": {"en": "Paid with", "es": "Pagado con", "fr": "Payé avec", "de": "Bezahlt mit"},
    "date": {"en": "Date", "es": "Fecha", "fr": "Date", "de": "Datum"},
    "reference": {"en": "Reference", "es": "Referencia", "fr": "Référence", "de": "Referenz"},
    "back_to": {
        "en": "Return to {merchant}",
        "es": "Volver a {merchant}",
        "fr": "Revenir à {merchant}",
        "de": "Zurück zu {merchant}",
    },
    "expired_title": {
        "en": "This payment page has expired",
        "es": "Esta página de pago ha caducado",
        "fr": "Cette page de paiement a expiré",
        "de": "Diese Zahlungsseite ist abgelaufen",
    },
    "expired_text": {
        "en": "Nothing was charged. Ask {merchant} for a new payment link.",
        "es": "No se cobró nada. Pide a {merchant} un nuevo enlace de pago.",
        "fr": "Rien n'a été débité. Demandez un nouveau lien de paiement à {merchant}.",
        "de": "Es wurde nichts abgebucht. Bitten Sie {merchant} um einen neuen Zahlungslink.",
    },
    "not_found_title": {
        "en": "Payment page not found",
        "es": "Página de pago no encontrada",
        "fr": "Page de paiement introuvable",
        "de": "Zahlungsseite nicht gefunden",
    },
    "not_found_text": {
        "en": "Check the link you were given, or ask the seller for a new one.",
        "es": "Revisa el enlace que te dieron o pide uno nuevo al vendedor.",
        "fr": "Vérifiez le lien reçu ou demandez-en un nouveau au vendeur.",
        "de": "Prüfen Sie den erhaltenen Link oder bitten Sie den Verkäufer um einen neuen.",
    },
    "loading": {"en": "Loading…", "es": "Cargando…", "fr": "Chargement…", "de": "Wird geladen…"},
    # card testing (backend/services/checkout_declines.py)
    "locked_title": {
        "en": "This payment page is locked",
        "es": "Esta página de pago está bloqueada",
        "fr": "Cette page de paiement est verrouillée",
        "de": "Diese Zahlungsseite ist gesperrt",
    },
    "locked_text": {
        "en": "Too many declined attempts. For your security this page takes no more payments; "
        "nothing was charged. To pay, start again from {merchant}.",
        "es": "Demasiados intentos rechazados. Por tu seguridad, esta página no admite más pagos; "
        "no se cobró nada. Para pagar, vuelve a empezar desde {merchant}.",
        "fr": "Trop de tentatives refusées. Pour votre sécurité, cette page n'accepte plus de "
        "paiement ; rien n'a été débité. Pour payer, recommencez depuis {merchant}.",
        "de": "Zu viele abgelehnte Versuche. Zu Ihrer Sicherheit nimmt diese Seite keine "
        "Zahlungen mehr an; es wurde nichts abgebucht. Um zu bezahlen, beginnen Sie erneut bei "
        "{merchant}.",
    },
    "address_throttled": {
        "en": "Too many declined payments came from your network. For your security, try again "
        "in {wait}.",
        "es": "Demasiados pagos rechazados desde tu red. Por tu seguridad, inténtalo de nuevo "
        "dentro de {wait}.",
        "fr": "Trop de paiements refusés depuis votre réseau. Pour votre sécurité, réessayez dans "
        "{wait}.",
        "de": "Zu viele abgelehnte Zahlungen aus Ihrem Netzwerk. Zu Ihrer Sicherheit versuchen Sie "
        "es in {wait} erneut.",
    },
    # payment links
    "amount_label": {
        "en": "Amount ({currency})",
        "es": "Importe ({currency})",
        "fr": "Montant ({currency})",
        "de": "Betrag ({currency})",
    },
    "amount_range": {
        "en": "Between {min} and {max}.",
        "es": "Entre {min} y {max}.",
        "fr": "Entre {min} et {max}.",
        "de": "Zwischen {min} und {max}.",
    },
    "err_amount": {
        "en": "Enter an amount between {min} and {max}.",
        "es": "Introduce un importe entre {min} y {max}.",
        "fr": "Saisissez un montant entre {min} et {max}.",
        "de": "Geben Sie einen Betrag zwischen {min} und {max} ein.",
    },
    "quantity_label": {"en": "Quantity", "es": "Cantidad", "fr": "Quantité", "de": "Menge"},
    "err_quantity": {
        "en": "Choose a quantity from 1 to {n}.",
        "es": "Elige una cantidad de 1 a {n}.",
        "fr": "Choisissez une quantité de 1 à {n}.",
        "de": "Wählen Sie eine Menge von 1 bis {n}.",
    },
    "continue_pay": {
        "en": "Continue to pay {amount}",
        "es": "Continuar para pagar {amount}",
        "fr": "Continuer pour payer {amount}",
        "de": "Weiter zur Zahlung von {amount}",
    },
    "continue": {
        "en": "Continue to payment",
        "es": "Continuar al pago",
        "fr": "Continuer",
        "de": "Weiter zur Zahlung",
    },
    "link_inactive_title": {
        "en": "This payment link is not active",
        "es": "Este enlace de pago no está activo",
        "fr": "Ce lien de paiement n'est pas actif",
        "de": "Dieser Zahlungslink ist nicht aktiv",
    },
    "link_inactive_text": {
        "en": "Ask {merchant} for another way to pay.",
        "es": "Pide a {merchant} otra forma de pago.",
        "fr": "Demandez à {merchant} un autre moyen de paiement.",
        "de": "Fragen Sie {merchant} nach einer anderen Zahlungsmöglichkeit.",
    },
    # a payment link that sells a subscription: "{amount} every month" ({n}: the count)
    "every_day": {
        "en": "{amount} every day",
        "es": "{amount} al día",
        "fr": "{amount} par jour",
        "de": "{amount} pro Tag",
    },
    "every_days": {
        "en": "{amount} every {n} days",
        "es": "{amount} cada {n} días",
        "fr": "{amount} tous les {n} jours",
        "de": "{amount} alle {n} Tage",
    },
    "every_week": {
        "en": "{amount} every week",
        "es": "{amount} a la semana",
        "fr": "{amount} par semaine",
        "de": "{amount} pro Woche",
    },
    "every_weeks": {
        "en": "{amount} every {n} weeks",
        "es": "{amount} cada {n} semanas",
        "fr": "{amount} toutes les {n} semaines",
        "de": "{amount} alle {n} Wochen",
    },
    "every_month": {
        "en": "{amount} every month",
        "es": "{amount} al mes",
        "fr": "{amount} par mois",
        "de": "{amount} pro Monat",
    },
    "every_months": {
        "en": "{amount} every {n} months",
        "es": "{amount} cada {n} meses",
        "fr": "{amount} tous les {n} mois",
        "de": "{amount} alle {n} Monate",
    },
    "every_year": {
        "en": "{amount} every year",
        "es": "{amount} al año",
        "fr": "{amount} par an",
        "de": "{amount} pro Jahr",
    },
    "every_years": {
        "en": "{amount} every {n} years",
        "es": "{amount} cada {n} años",
        "fr": "{amount} tous les {n} ans",
        "de": "{amount} alle {n} Jahre",
    },
    "sub_first_payment": {
        "en": "Today: {amount}, then {recurring} until you cancel.",
        "es": "Hoy: {amount}; después, {recurring} hasta que canceles.",
        "fr": "Aujourd'hui : {amount}, puis {recurring} jusqu'à votre résiliation.",
        "de": "Heute: {amount}, danach {recurring} bis zu Ihrer Kündigung.",
    },
    "sub_consent": {
        "en": "By subscribing you allow {merchant} to charge this card {recurring} until you "
        "cancel.",
        "es": "Al suscribirte, autorizas a {merchant} a cargar en esta tarjeta {recurring} hasta "
        "que canceles.",
        "fr": "En vous abonnant, vous autorisez {merchant} à débiter cette carte de {recurring} "
        "jusqu'à votre résiliation.",
        "de": "Mit dem Abonnement erlauben Sie {merchant}, diese Karte bis zu Ihrer Kündigung "
        "mit {recurring} zu belasten.",
    },
    "subscribe_button": {
        "en": "Subscribe",
        "es": "Suscribirse",
        "fr": "S'abonner",
        "de": "Abonnieren",
    },
    "continue_subscribe": {
        "en": "Continue to subscribe",
        "es": "Continuar con la suscripción",
        "fr": "Continuer vers l'abonnement",
        "de": "Weiter zum Abonnement",
    },
    "subscribed_text": {
        "en": "You are subscribed: {recurring} until you cancel. Your receipt is below.",
        "es": "Ya estás suscrito: {recurring} hasta que canceles. Tu recibo está abajo.",
        "fr": "Vous êtes abonné : {recurring} jusqu'à votre résiliation. Votre reçu est "
        "ci-dessous.",
        "de": "Ihr Abonnement läuft: {recurring} bis zu Ihrer Kündigung. Ihre Quittung "
        "finden Sie unten.",
    },
    # receipt e-mail
    "email_subject": {
        "en": "Your receipt from {merchant}",
        "es": "Tu recibo de {merchant}",
        "fr": "Votre reçu de {merchant}",
        "de": "Ihre Quittung von {merchant}",
    },
    "email_body": {
        "en": "Thank you for your payment of {amount} to {merchant}.",
        "es": "Gracias por tu pago de {amount} a {merchant}.",
        "fr": "Merci pour votre paiement de {amount} à {merchant}.",
        "de": "Vielen Dank für Ihre Zahlung von {amount} an {merchant}.",
    },
    "email_view": {
        "en": "View your receipt: {url}",
        "es": "Ver tu recibo: {url}",
        "fr": "Voir votre reçu : {url}",
        "de": "Quittung ansehen: {url}",
    },
}


def language_of(locale: str) -> str:
    """The catalog language for a locale such as es_MX; English for anything unsupported."""
    code = (locale or "").replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, locale: str, **values: object) -> str:
    """The message in the locale's language, with its {placeholders} filled in."""
    entry = MESSAGES[key]
    text = entry.get(language_of(locale)) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


INTERVALS = ("day", "week", "month", "year")


def every(amount: str, interval: str, count: int, locale: str) -> str:
    """An amount with how often it is charged, in the customer's language: "$15.00 every
    month", "15,00 € alle 3 Monate"."""
    unit = interval if interval in INTERVALS else "month"
    if count == 1:
        return t(f"every_{unit}", locale, amount=amount)
    return t(f"every_{unit}s", locale, amount=amount, n=count)


def catalog(locale: str) -> dict[str, str]:
    """Every message of one language (placeholders left in), for a page to render at once."""
    lang = language_of(locale)
    return {key: entry.get(lang) or entry[DEFAULT_LANGUAGE] for key, entry in MESSAGES.items()}


def time_zone(name: object) -> str:
    """An IANA time zone that this server knows ("Europe/Berlin"), as the browser named it;
    "UTC" for anything else."""
    if isinstance(name, str) and 0 < len(name) <= 64:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return "UTC"
        return name
    return "UTC"


def format_moment(moment: datetime, locale: str, zone: str) -> str:
    """A moment for the customer: long date and short time in their language and time zone,
    the zone named ("12. März 2026, 15:05 MEZ", "March 12, 2026, 10:05 AM EDT")."""
    local = moment.astimezone(ZoneInfo(time_zone(zone)))
    clock = f"{format_time(local, 'short', locale=locale)} {format_time(local, 'z', locale=locale)}"
    pattern = get_datetime_format("long", locale=locale).replace("'", "")
    return pattern.format(clock, format_date(local, "long", locale=locale))


def format_wait(seconds: int, locale: str) -> str:
    """How long to wait, in words of the locale ("9 minutes", "45 Sekunden")."""
    return format_timedelta(timedelta(seconds=max(1, seconds)), threshold=1, locale=locale)


def negotiate(accept_language: str | None) -> str:
    """The best supported locale (e.g. es_MX, fr_FR, en_US) for an Accept-Language header.

    The region is kept when the browser gives one, so es-MX formats amounts the Mexican way.
    """
    preferred: list[tuple[float, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            preferred.append((-quality + index * 1e-6, tag.strip().replace("-", "_")))
    for _, tag in sorted(preferred):
        if negotiate_locale([tag.split("_")[0]], list(LANGUAGES)):
            return normalise_locale(tag)
    return _DEFAULT_LOCALE[DEFAULT_LANGUAGE]


def normalise_locale(value: str) -> str:
    """A Babel locale identifier in a supported language; the language's default otherwise."""
    lang = language_of(value)
    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return _DEFAULT_LOCALE[lang]
    if parsed.language != lang or not parsed.territory:
        return _DEFAULT_LOCALE[lang]
    return f"{parsed.language}_{parsed.territory}"
