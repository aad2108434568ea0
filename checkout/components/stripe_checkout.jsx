// Live mode: Stripe's Payment Element (@stripe/react-stripe-js). Card details go from this
// iframe to Stripe only; our server receives a PaymentMethod id and confirms the PaymentIntent.
//
// Stripe.js is loaded from @stripe/stripe-js/pure, so nothing is fetched from js.stripe.com
// until this component is shown (never in the sandbox).
import { useEffect, useMemo, useRef, useState } from "react";
import { loadStripe } from "@stripe/stripe-js/pure";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";

// Apple Pay and Google Pay are part of the card method: the Payment Element offers them ("auto")
// where the browser has one and the page's domain is registered with Stripe
// (backend/services/checkout/wallet_domains.py); the PaymentMethod it makes is a card whose
// card.wallet.type names the wallet.
const walletOptions = (offered) => {
  const show = offered ? "auto" : "never";
  return { wallets: { applePay: show, googlePay: show } };
};

function PayForm({ email, payLabel, busyLabel, busy, clientSecret, wallets, onPaymentMethod, onActionDone, onError }) {
  const stripe = useStripe();
  const elements = useElements();
  const [customerEmail, setCustomerEmail] = useState(email || "");
  const handled = useRef("");

  // The server asked for 3-D Secure: run Stripe's challenge, then let the server read the result.
  useEffect(() => {
    if (!stripe || !clientSecret || handled.current === clientSecret) return;
    handled.current = clientSecret;
    stripe.handleNextAction({ clientSecret }).then((result) => {
      if (result.error) onError(result.error.message || "");
      onActionDone();
    });
  }, [stripe, clientSecret]);

  const submit = async (event) => {
    event.preventDefault();
    if (!stripe || !elements || busy) return;
    const checked = await elements.submit();
    if (checked.error) return; // the Payment Element shows the field errors itself
    const made = await stripe.createPaymentMethod({
      elements,
      params: { billing_details: { email: customerEmail } },
    });
    if (made.error) {
      onError(made.error.message || "");
      return;
    }
    onPaymentMethod(made.paymentMethod.id, customerEmail);
  };

  return (
    <form onSubmit={submit} id="stripe-pay-form">
      {email ? null : (
        <div className="co-field">
          <label htmlFor="email">E-mail</label>
          <input id="email" type="email" autoComplete="email" required value={customerEmail}
            onChange={(e) => setCustomerEmail(e.target.value)} />
        </div>
      )}
      <PaymentElement options={walletOptions(wallets)} />
      <button type="submit" className="co-pay" disabled={!stripe || busy} aria-busy={busy}>
        {busy ? busyLabel : payLabel}
      </button>
    </form>
  );
}

export function StripeCheckout({ publishableKey, amount, currency, locale, brandColor, ...rest }) {
  const stripePromise = useMemo(() => (publishableKey ? loadStripe(publishableKey) : null), [publishableKey]);
  const options = {
    mode: "payment",
    amount,
    currency: (currency || "usd").toLowerCase(),
    paymentMethodCreation: "manual",
    paymentMethodTypes: ["card"],
    locale: locale || "auto",
    appearance: { variables: { colorPrimary: brandColor } },
  };
  return (
    <Elements stripe={stripePromise} options={options}>
      <PayForm {...rest} />
    </Elements>
  );
}
