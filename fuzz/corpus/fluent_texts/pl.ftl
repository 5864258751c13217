# Tessera widget texts: pl. Every message of en.ftl must be here.

widget-title = Logowanie
sign-in = Zaloguj się
sign-in-with = Kontynuuj przez { $provider }
signing-in = Trwa logowanie…
signed-in = Jesteś zalogowany
sign-out = Wyloguj się
privacy-note = Ten sklep widzi tylko pseudonim, nigdy Twojego imienia ani e-maila.
error-idp-unavailable = Usługa logowania jest niedostępna. Spróbuj ponownie za chwilę.
error-cancelled = Logowanie zostało anulowane.
error-state-mismatch = Nie udało się zweryfikować tego logowania. Zacznij od nowa.
error-clock-skew = Zegar Twojego urządzenia wydaje się niepoprawny. Popraw go i spróbuj ponownie.
error-configuration = Logowanie nie jest poprawnie skonfigurowane dla tego sklepu.
error-generic = Coś poszło nie tak. Spróbuj ponownie.
error-session-expired = Twoja sesja wygasła. Zaloguj się ponownie.
error-popup-blocked = Okno logowania zostało zablokowane. Zezwól na wyskakujące okna dla tej witryny i spróbuj ponownie.
dismiss = Zamknij
