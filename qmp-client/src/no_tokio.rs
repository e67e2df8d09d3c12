//! Stand-ins for the tokio types the shared state names, for builds
//! without the `tokio` feature: the async waiters they describe can then
//! never exist.

pub(crate) mod oneshot {
    use std::convert::Infallible;
    use std::marker::PhantomData;

    /// A sender that cannot be constructed.
    pub(crate) struct Sender<T>(Infallible, PhantomData<T>);

    impl<T> Sender<T> {
        pub(crate) fn send(self, _value: T) -> Result<(), T> {
            match self.0 {}
        }
    }
}
