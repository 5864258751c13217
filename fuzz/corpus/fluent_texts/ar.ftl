# Tessera widget texts: ar. Every message of en.ftl must be here.

widget-title = تسجيل الدخول
sign-in = تسجيل الدخول
sign-in-with = المتابعة باستخدام { $provider }
signing-in = جارٍ تسجيل دخولك…
signed-in = لقد سجّلت الدخول
sign-out = تسجيل الخروج
privacy-note = لا يرى هذا المتجر سوى اسم مستعار، ولا يرى اسمك أو بريدك الإلكتروني أبدًا.
error-idp-unavailable = تعذّر الوصول إلى خدمة تسجيل الدخول. يُرجى المحاولة مرة أخرى بعد قليل.
error-cancelled = تم إلغاء تسجيل الدخول.
error-state-mismatch = تعذّر التحقق من عملية تسجيل الدخول هذه. يُرجى البدء من جديد.
error-clock-skew = يبدو أن ساعة جهازك غير مضبوطة. يُرجى تصحيحها والمحاولة مرة أخرى.
error-configuration = تسجيل الدخول غير مُعدّ بشكل صحيح لهذا المتجر.
error-generic = حدث خطأ ما. يُرجى المحاولة مرة أخرى.
error-session-expired = انتهت جلستك. يرجى تسجيل الدخول مرة أخرى.
error-popup-blocked = تم حظر نافذة تسجيل الدخول. يرجى السماح بالنوافذ المنبثقة لهذا الموقع والمحاولة مرة أخرى.
dismiss = إغلاق
