# Tessera widget texts: tr. Every message of en.ftl must be here.

widget-title = Giriş yap
sign-in = Giriş yap
sign-in-with = { $provider } ile devam et
signing-in = Giriş yapılıyor…
signed-in = Giriş yaptınız
sign-out = Çıkış yap
privacy-note = Bu mağaza adınızı veya e-postanızı değil, yalnızca bir takma adı görür.
error-idp-unavailable = Giriş hizmetine ulaşılamıyor. Lütfen biraz sonra tekrar deneyin.
error-cancelled = Giriş iptal edildi.
error-state-mismatch = Bu giriş doğrulanamadı. Lütfen baştan başlayın.
error-clock-skew = Cihazınızın saati yanlış görünüyor. Lütfen düzeltip tekrar deneyin.
error-configuration = Giriş bu mağaza için doğru yapılandırılmamış.
error-generic = Bir şeyler ters gitti. Lütfen tekrar deneyin.
error-session-expired = Oturumunuz sona erdi. Lütfen yeniden giriş yapın.
error-popup-blocked = Giriş penceresi engellendi. Lütfen bu site için açılır pencerelere izin verin ve yeniden deneyin.
dismiss = Kapat
