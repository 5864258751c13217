# Tessera widget texts: ru. Every message of en.ftl must be here.

widget-title = Вход
sign-in = Войти
sign-in-with = Продолжить с { $provider }
signing-in = Выполняется вход…
signed-in = Вы вошли
sign-out = Выйти
privacy-note = Магазин видит только псевдоним, а не ваше имя или email.
error-idp-unavailable = Сервис входа недоступен. Попробуйте ещё раз чуть позже.
error-cancelled = Вход отменён.
error-state-mismatch = Не удалось подтвердить этот вход. Начните заново.
error-clock-skew = Похоже, часы на вашем устройстве идут неверно. Исправьте их и попробуйте снова.
error-configuration = Вход для этого магазина настроен неправильно.
error-generic = Что-то пошло не так. Попробуйте ещё раз.
error-session-expired = Ваш сеанс завершён. Войдите снова.
error-popup-blocked = Окно входа заблокировано. Разрешите всплывающие окна для этого сайта и попробуйте снова.
dismiss = Закрыть
