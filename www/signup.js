// The button of a relay whose certificate Delta Chat cannot check (README "Port 443"): asks
// POST /new once per tap and shows the answer's dclogin: link as a QR code and a link. The QR
// encoder is Debian's libjs-qrcode-generator, which nginx serves as /qrcode.js.
"use strict";

// The answer's dclogin_url (an IP-only or "_" relay), else the same built from its address
// and password for a local relay with a self-signed certificate: ic=3 and sc=3 accept it.
// A relay on other ports than 993 and 465 (PORT_BASE) names them, as scripts/run does.
function dcloginUrl(answer, ports) {
	let url = answer.dclogin_url;
	if (!url)
		url = "dclogin:" + encodeURIComponent(answer.email).replace("%40", "@") + "?p=" +
			encodeURIComponent(answer.password) + "&v=1&ic=3&sc=3";
	if (ports.imapPort !== "993" || ports.smtpPort !== "465")
		url += "&ip=" + ports.imapPort + "&sp=" + ports.smtpPort;
	return url;
}

function showError(text) {
	const error = document.getElementById("signup-error");
	error.textContent = text;
	error.hidden = false;
}

async function signup() {
	const button = document.getElementById("signup");
	button.disabled = true;
	document.getElementById("signup-error").hidden = true;
	try {
		const response = await fetch("new", { method: "POST", cache: "no-store" });
		const answer = await response.json();
		if (!response.ok || !answer.email) {
			showError("No address was made: " + (answer.error || response.status));
			return;
		}
		const url = dcloginUrl(answer, button.dataset);
		const qr = qrcode(0, "M");
		qr.addData(url);
		qr.make();
		document.getElementById("signup-qr").src = qr.createDataURL(6, 4);
		document.getElementById("signup-link").href = url;
		document.getElementById("signup-answer").hidden = false;
	} catch (e) {
		showError("No answer from the relay: " + e.message);
	} finally {
		button.disabled = false;
	}
}

document.getElementById("signup").addEventListener("click", signup);
