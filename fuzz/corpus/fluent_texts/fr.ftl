# Tessera widget texts: fr. Every message of en.ftl must be here.

widget-title = Connexion
sign-in = Se connecter
sign-in-with = Continuer avec { $provider }
signing-in = Connexion en cours…
signed-in = Vous êtes connecté·e
sign-out = Se déconnecter
privacy-note = Cette boutique ne voit qu’un pseudonyme, jamais votre nom ni votre e-mail.
error-idp-unavailable = Le service de connexion est injoignable. Veuillez réessayer dans un instant.
error-cancelled = La connexion a été annulée.
error-state-mismatch = Cette connexion n’a pas pu être vérifiée. Veuillez recommencer.
error-clock-skew = L’horloge de votre appareil semble déréglée. Corrigez-la puis réessayez.
error-configuration = La connexion n’est pas correctement configurée pour cette boutique.
error-generic = Une erreur s’est produite. Veuillez réessayer.
error-session-expired = Votre session a pris fin. Veuillez vous reconnecter.
error-popup-blocked = La fenêtre de connexion a été bloquée. Autorisez les fenêtres pop-up pour ce site et réessayez.
dismiss = Fermer
