# Tessera widget texts: es. Every message of en.ftl must be here.

widget-title = Iniciar sesión
sign-in = Iniciar sesión
sign-in-with = Continuar con { $provider }
signing-in = Iniciando sesión…
signed-in = Has iniciado sesión
sign-out = Cerrar sesión
privacy-note = Esta tienda solo ve un seudónimo, nunca tu nombre ni tu correo.
error-idp-unavailable = No se puede contactar con el servicio de inicio de sesión. Inténtalo de nuevo en un momento.
error-cancelled = Se canceló el inicio de sesión.
error-state-mismatch = No se pudo verificar este inicio de sesión. Vuelve a empezar.
error-clock-skew = El reloj de tu dispositivo parece incorrecto. Corrígelo e inténtalo de nuevo.
error-configuration = El inicio de sesión no está bien configurado para esta tienda.
error-generic = Algo salió mal. Inténtalo de nuevo.
error-session-expired = Tu sesión ha terminado. Vuelve a iniciar sesión.
error-popup-blocked = Se bloqueó la ventana de inicio de sesión. Permite las ventanas emergentes para este sitio e inténtalo de nuevo.
dismiss = Cerrar
