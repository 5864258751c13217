# Tessera widget texts: de. Every message of en.ftl must be here.

widget-title = Anmelden
sign-in = Anmelden
sign-in-with = Weiter mit { $provider }
signing-in = Anmeldung läuft…
signed-in = Sie sind angemeldet
sign-out = Abmelden
privacy-note = Dieser Shop sieht nur ein Pseudonym, nie Ihren Namen oder Ihre E-Mail-Adresse.
error-idp-unavailable = Der Anmeldedienst ist nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.
error-cancelled = Die Anmeldung wurde abgebrochen.
error-state-mismatch = Diese Anmeldung konnte nicht bestätigt werden. Bitte beginnen Sie erneut.
error-clock-skew = Die Uhr Ihres Geräts scheint falsch zu gehen. Bitte korrigieren Sie sie und versuchen Sie es erneut.
error-configuration = Die Anmeldung ist für diesen Shop nicht richtig eingerichtet.
error-generic = Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.
error-session-expired = Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.
error-popup-blocked = Das Anmeldefenster wurde blockiert. Bitte erlauben Sie Pop-ups für diese Website und versuchen Sie es erneut.
dismiss = Schließen
