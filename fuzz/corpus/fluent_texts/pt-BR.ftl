# Tessera widget texts: pt-BR. Every message of en.ftl must be here.

widget-title = Entrar
sign-in = Entrar
sign-in-with = Continuar com { $provider }
signing-in = Entrando…
signed-in = Você entrou
sign-out = Sair
privacy-note = Esta loja vê apenas um pseudônimo, nunca seu nome ou e-mail.
error-idp-unavailable = Não foi possível acessar o serviço de login. Tente novamente em instantes.
error-cancelled = O login foi cancelado.
error-state-mismatch = Não foi possível verificar este login. Comece de novo.
error-clock-skew = O relógio do seu dispositivo parece estar errado. Corrija-o e tente novamente.
error-configuration = O login não está configurado corretamente para esta loja.
error-generic = Algo deu errado. Tente novamente.
error-session-expired = Sua sessão terminou. Faça login novamente.
error-popup-blocked = A janela de login foi bloqueada. Permita pop-ups para este site e tente novamente.
dismiss = Fechar
