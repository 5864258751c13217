# Tessera widget texts: ja. Every message of en.ftl must be here.

widget-title = ログイン
sign-in = ログイン
sign-in-with = { $provider } で続行
signing-in = ログインしています…
signed-in = ログインしました
sign-out = ログアウト
privacy-note = このショップに見えるのは仮名だけで、お名前やメールアドレスは見えません。
error-idp-unavailable = ログインサービスに接続できません。しばらくしてからもう一度お試しください。
error-cancelled = ログインはキャンセルされました。
error-state-mismatch = このログインを確認できませんでした。最初からやり直してください。
error-clock-skew = お使いの端末の時計がずれているようです。修正してからもう一度お試しください。
error-configuration = このショップのログイン設定が正しくありません。
error-generic = 問題が発生しました。もう一度お試しください。
error-session-expired = セッションが終了しました。もう一度ログインしてください。
error-popup-blocked = ログインウィンドウがブロックされました。このサイトのポップアップを許可して、もう一度お試しください。
dismiss = 閉じる
