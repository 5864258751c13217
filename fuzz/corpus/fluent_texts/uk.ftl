# Tessera widget texts: uk. Every message of en.ftl must be here.

widget-title = Вхід
sign-in = Увійти
sign-in-with = Продовжити з { $provider }
signing-in = Виконується вхід…
signed-in = Ви увійшли
sign-out = Вийти
privacy-note = Магазин бачить лише псевдонім, а не ваше ім’я чи email.
error-idp-unavailable = Сервіс входу недоступний. Спробуйте ще раз трохи згодом.
error-cancelled = Вхід скасовано.
error-state-mismatch = Не вдалося підтвердити цей вхід. Почніть знову.
error-clock-skew = Схоже, годинник на вашому пристрої показує неправильний час. Виправте його та спробуйте ще раз.
error-configuration = Вхід для цього магазину налаштовано неправильно.
error-generic = Щось пішло не так. Спробуйте ще раз.
error-session-expired = Ваш сеанс завершено. Увійдіть знову.
error-popup-blocked = Вікно входу заблоковано. Дозвольте спливаючі вікна для цього сайту та спробуйте знову.
dismiss = Закрити
